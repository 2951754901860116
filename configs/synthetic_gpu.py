r"""The built-in synthetic face set, sized for one GPU: the demo's config with
6x its stage-1 iterations.

configs/synthetic.py fits the method into ~15 minutes of a 2-core CPU, which
leaves stage 1 1,500 iterations; there f(e) beats the CNN baseline by a few
points but Gde does not yet draw the expression. On one GPU the same config
takes ~2 minutes (stage-1 loop ~80 iterations/s on an H200), so this config
spends about 5 minutes on the same method with 9,000 iterations. Everything
else (data, model, losses, warm-up and boost fractions, stage 2, baseline)
is configs/synthetic.py's:

  python -m relgan_jax.main --config=configs/synthetic_gpu.py --workdir=runs/synthetic_gpu

Measured on one NVIDIA H200 (2026-12-04, README.md "The demo at 6x on a
GPU"; run with checkpoints every 1,500 iterations for the curve, which does
not change training): 293 s end to end; REL-GAN 92.58 +- 2.13 % against the
baseline's 73.27 +- 0.71; in f(e) 98.2 % of nearest neighbours have the same
expression and 80.6 % are the same person; expression transfer 54.0 %.
On 2 CPU cores it would take about 6x the demo's stage 1 (an estimate of
~40 minutes in all, not measured); configs/synthetic_full.py is the CPU's
longer run.
"""

from configs import synthetic


def get_config():
  config = synthetic.get_config()
  config.train.num_steps = 9000
  return config
