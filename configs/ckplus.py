r"""CK+ (DESIGN.md §5): the last 3 frames of the 327 labelled sequences = 981
images of 118 subjects, 7 classes (anger, contempt, disgust, fear, happy,
sadness, surprise); 10-fold subject-independent protocol.

  python -m data_prep.prepare --dataset=ckplus --raw_dir=/path/to/CK+ \
      --out_dir=data/ckplus
  python -m relgan_jax.main --config=configs/ckplus.py --workdir=runs/ckplus
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'ckplus'
  config.data.dir = 'data/ckplus'
  config.protocol.num_folds = 10
  return config
