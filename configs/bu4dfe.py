r"""BU-4DFE pre-training (DESIGN.md §4): stage 1 on all 60,600 frames of the
101 subjects, 6 basic expressions; no recognition protocol of its own.

  python -m data_prep.prepare --dataset=bu4dfe --raw_dir=/path/to/BU-4DFE \
      --out_dir=data/bu4dfe
  python -m relgan_jax.main --config=configs/bu4dfe.py --workdir=runs/bu4dfe \
      --mode=train_gan

Then start a target dataset's folds from it, e.g.
  python -m relgan_jax.main --config=configs/ckplus.py --workdir=runs/ckplus \
      --config.protocol.pretrained_checkpoint=runs/bu4dfe
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'bu4dfe'
  config.data.dir = 'data/bu4dfe'
  # data_prep.prepare stores 10 subject folds with every dataset; pre-training
  # (--mode=train_gan) uses all records regardless.
  config.protocol.num_folds = 10
  return config
