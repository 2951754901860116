r"""The built-in synthetic face set: the whole method on a laptop CPU.

Generates the set on first use (data_prep.synthetic), then runs stage 1, the
encoder export, stage 2 and the report for every fold:

  python -m relgan_jax.main --config=configs/synthetic.py --workdir=runs/synthetic
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'synthetic'
  config.data.dir = 'data/synthetic'
  config.data.generate_if_missing = True
  config.data.synthetic_identities = 64
  config.model.image_size = 64
  config.model.width = 0.25
  config.train.batch_size = 32
  config.train.num_steps = 600
  config.train.log_every = 50
  config.train.checkpoint_every = 300
  config.train.image_summary_every = 200
  config.stage2.mlp_epochs = 50
  config.stage2.baseline_epochs = 10
  config.stage2.baseline_lr = 3e-4
  config.protocol.num_folds = 2
  return config
