r"""CK+ (DESIGN.md §5): the last 3 frames of the 327 labelled sequences = 981
images of 118 subjects, 7 classes (anger, contempt, disgust, fear, happy,
sadness, surprise); 10-fold subject-independent protocol. data_prep also
stores each used sequence's first (neutral) frame as a stage-1-only record:
stage 1 draws x_t among a person's neutral frames (DESIGN.md §4), nothing else
sees them (no class, fold count, test set or stage 2).

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
