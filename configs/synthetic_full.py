r"""The built-in synthetic face set with a longer stage 1 and a wider G.

configs/synthetic.py fits the whole method into ~15 minutes of a 2-core CPU,
which leaves stage 1 1,500 iterations at width 0.25; this config gives it
6,000 iterations at width 0.5 (G, and with it the CNN baseline, which is the
Ges trunk: twice the channels, half the paper's): 54 minutes end to end on 2
CPU cores (measured 2026-12-03), a few minutes on one GPU. It keeps every
1,000-iteration checkpoint so that the curve of what stage 1 has learned can
be drawn (benchmarks/stage1_curve.py):

  python -m relgan_jax.main --config=configs/synthetic_full.py \
      --workdir=runs/synthetic_full

Why the width: at width 0.25 Gde's pixel L1 stays at 0.16-0.19 for all
6,000 iterations; at 0.5 it reaches 0.12, and f(e) reads 95 % instead of
91 % with far less identity in it (linear leakage 57 % instead of 84 %).
Expression transfer does not follow (52.5 against 53.7 %): what limits it
is how sharply Gde draws, and the baseline reads real faces blurred by 1 px
at only 59 % (README.md).
Everything else is configs/synthetic.py: the same data, D, losses, warm-up
and boost fractions.
"""

from configs import synthetic


def get_config():
  config = synthetic.get_config()
  config.model.width = 0.5
  config.train.num_steps = 6000
  config.train.checkpoint_every = 1000
  config.train.keep_checkpoints = 6  # Every checkpoint, for the curve.
  config.train.image_summary_every = 1000
  return config
