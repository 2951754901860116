r"""SFEW 2.0 (DESIGN.md §5): train on Train (958 images), report on Val (436);
7 classes including neutral. One fixed split: fold 0 is Val, Train records are
always trained on. There are no identity labels: every image counts as its own
person (pairs.identity_map), so Di learns to tell the training images apart.

  python -m data_prep.prepare --dataset=sfew --raw_dir=/path/to/SFEW_2.0 \
      --out_dir=data/sfew
  python -m relgan_jax.main --config=configs/sfew.py --workdir=runs/sfew
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'sfew'
  config.data.dir = 'data/sfew'
  config.protocol.num_folds = 1
  return config
