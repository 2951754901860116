r"""BU-3DFE (DESIGN.md §5): 6 basic expressions at the two highest intensities,
100 subjects = 1,200 images; 10-fold subject-independent protocol.

Prepare the data once, then run stage 1, the Ges export, stage 2 and the
report for every fold:

  python -m data_prep.prepare --dataset=bu3dfe --raw_dir=/path/to/BU-3DFE \
      --out_dir=data/bu3dfe
  python -m relgan_jax.main --config=configs/bu3dfe.py --workdir=runs/bu3dfe

Starting every fold from BU-4DFE pre-training (configs/bu4dfe.py):

  python -m relgan_jax.main --config=configs/bu3dfe.py --workdir=runs/bu3dfe \
      --config.protocol.pretrained_checkpoint=runs/bu4dfe
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'bu3dfe'
  config.data.dir = 'data/bu3dfe'
  config.protocol.num_folds = 10
  return config
