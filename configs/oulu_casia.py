r"""Oulu-CASIA, VIS strong light (DESIGN.md §5): the last 3 frames of 480
sequences = 1,440 images of 80 subjects, 6 basic expressions; 10-fold
subject-independent protocol. data_prep also stores each sequence's first
(neutral) frame as a stage-1-only record: stage 1 draws x_t among a person's
neutral frames (DESIGN.md §4), nothing else sees them.

  python -m data_prep.prepare --dataset=oulu_casia \
      --raw_dir=/path/to/Oulu-CASIA --out_dir=data/oulu_casia
  python -m relgan_jax.main --config=configs/oulu_casia.py \
      --workdir=runs/oulu_casia
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'oulu_casia'
  config.data.dir = 'data/oulu_casia'
  config.protocol.num_folds = 10
  return config
