r"""The built-in synthetic face set with a longer stage 1 than the demo's.

configs/synthetic.py fits the whole method into ~15 minutes of a 2-core CPU,
which leaves stage 1 1,500 iterations; this config gives it 6,000 (about four
times the compute, ~45 minutes end to end on 2 CPU cores, a few minutes on
one GPU) and keeps every 1,000-iteration checkpoint so that the accuracy-vs-
iterations curve can be drawn (benchmarks/stage1_curve.py):

  python -m relgan_jax.main --config=configs/synthetic_full.py \
      --workdir=runs/synthetic_full

Everything else is configs/synthetic.py: the same data, networks, losses and
warm-up fraction, so the two differ in stage-1 length alone.
"""

from configs import synthetic


def get_config():
  config = synthetic.get_config()
  config.train.num_steps = 6000
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 6  # Every checkpoint, for the curve.
  config.train.image_summary_every = 1000
  return config
