r"""The built-in synthetic face set, sized for one GPU: the demo's config with
6x its stage-1 iterations and the frozen expression reader.

configs/synthetic.py fits the method into ~15 minutes of a 2-core CPU, which
leaves stage 1 1,500 iterations; with every stage at the centre crop
(session 25) f(e) beats the CNN baseline by 5.4 points there and expression
transfer reads 64.2 %. Before that change, and here (the five crop places,
as measured), 1,500 iterations drew no expression. On one GPU the same config
takes ~2 minutes (stage-1 loop ~80 iterations/s on an H200), so this config
spends a few minutes on the same method with 9,000 iterations and G's
perceptual term in a frozen expression reader (loss.lambda_reader = 300, as
configs/synthetic_full.py). Everything else (data, model width 0.25, losses,
warm-up and boost fractions, stage 2, baseline) is configs/synthetic.py's,
but every stage crops at the five places:

  python -m relgan_jax.main --config=configs/synthetic_gpu.py --workdir=runs/synthetic_gpu

Measured (README.md, "The demo at 6x on a GPU"):
* with the reader (this config), on one NVIDIA H200 (2026-12-04, session
  24): 259 s end to end; REL-GAN 91.74 +- 3.00 % against the baseline's
  73.10 +- 0.47; nearest neighbours in f(e) 98.1 % same expression, 82.0 %
  same person; expression transfer 67.6 % (73.95 / 61.25 on the two folds).
* the same on 2 CPU cores (session 22; stage 1 took 53 minutes there):
  REL-GAN 93.53 +- 2.68 %, transfer 62.3 %.
* without the reader, on one H200 (session 21): 293 s; REL-GAN 92.58 %,
  transfer 54.0 %, below the 60 % that issue 14 asks for.
configs/synthetic_full.py (G at width 0.5, 6,000 iterations) meets the same
bars and is quicker on a GPU (176 s on the H200 at the five places): the loop
is overhead-bound. At the centre crop (session 27, 77 minutes on 2 CPU cores)
it draws twice the demo's share of the expression, and its grid's rows
differ by the source's expression.
"""

from configs import synthetic


def get_config():
  config = synthetic.get_config()
  config.train.num_steps = 9000
  config.loss.lambda_reader = 300.0
  # The paper's five crop places in every stage, as every figure of this
  # config was measured (session 25 turned them off in the demo; not yet
  # measured here).
  config.augment.five_crops = True
  return config
