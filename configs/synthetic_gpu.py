r"""The built-in synthetic face set, sized for one GPU: the demo's config with
6x its stage-1 iterations and the frozen expression reader.

configs/synthetic.py fits the method into ~15 minutes of a 2-core CPU, which
leaves stage 1 1,500 iterations: f(e) beats the CNN baseline and expression
transfer reads 64.2 %, but the reenactment grid's rows look alike. On one GPU
the same config takes ~2 minutes (stage-1 loop ~80 iterations/s on an H200),
so this config spends a few minutes on the same method with 9,000 iterations
and G's perceptual term in a frozen expression reader (loss.lambda_reader =
300, as configs/synthetic_full.py). Everything else (data, model width 0.25,
losses, warm-up and boost fractions, stage 2, baseline, every stage at the
centre crop) is configs/synthetic.py's:

  python -m relgan_jax.main --config=configs/synthetic_gpu.py --workdir=runs/synthetic_gpu

Measured (EXPERIMENTS.md, "The demo at 6× on a GPU"):
* this config on 2 CPU cores (session 28): 3,344 s end to end; REL-GAN
  95.54 +- 0.63 % against the baseline's 82.20 +- 1.66; nearest neighbours in
  f(e) 99.1 % same expression, 82.3 % same person; expression transfer
  78.2 % (84.65 / 71.75 on the two folds); expression strength 39.6 %; the
  grid's rows differ by the source's expression.
* at the five crop places (its setting until session 28), on one NVIDIA H200
  (session 24): 259 s end to end; REL-GAN 91.74 +- 3.00 % against 73.10 +-
  0.47; transfer 67.6 %. Not yet timed on a GPU at the centre crop.
configs/synthetic_full.py (G at width 0.5, 6,000 iterations) reads about the
same and is quicker on a GPU (176 s on the H200 at the five places): the
loop is overhead-bound.
"""

from configs import synthetic


def get_config():
  config = synthetic.with_longer_runs_settings(synthetic.get_config())
  config.train.num_steps = 9000
  config.loss.lambda_reader = 300.0
  return config
