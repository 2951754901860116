r"""SFEW 2.0 (DESIGN.md §5): train on Train (958 images), report on Val (436);
7 classes including neutral. One fixed split: fold 0 is Val, Train records are
always trained on.

There are no identity labels: every image counts as its own person
(pairs.identity_map), so the pair rule can only pair a face with itself:
x_t = x_tg = x_s. Get then hands Gde the very image it must draw, and Gde has no
reason to read f(e): stage 1 trained on SFEW alone teaches Ges nothing about
expression. So stage 1 comes from a set with identities and is used frozen: by
default it is pre-trained here, once, on a prepared BU-4DFE folder
(protocol.pretrain_data_dir = data/bu4dfe, as the paper pre-trains on
BU-4DFE) and frozen (protocol.freeze_pretrained); SFEW trains only the stage-2
MLP (and the CNN baseline). To use a stage-1 run made before, pass
--config.protocol.pretrained_checkpoint=runs/bu4dfe
--config.protocol.pretrain_data_dir=''. An SFEW run that would train stage 1
from scratch is refused (relgan_jax/config_checks.py).

  python -m data_prep.prepare --dataset=bu4dfe --raw_dir=/path/to/BU-4DFE \
      --out_dir=data/bu4dfe
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
  # Stage 1 from a set with identities, frozen (see the docstring).
  config.protocol.pretrain_data_dir = 'data/bu4dfe'
  config.protocol.freeze_pretrained = True
  return config
