r"""Tiny configuration for tests and smoke runs: 32x32 faces, width 1/8.

  python -m relgan_jax.main --config=configs/tiny.py --workdir=/tmp/relgan_tiny
"""

from configs import default


def get_config():
  config = default.get_config()
  config.data.name = 'synthetic'
  config.data.generate_if_missing = True
  config.data.synthetic_identities = 12
  config.model.image_size = 32
  config.model.width = 0.125
  # Tiny runs are compile-bound: the plain XLA layers trace and compile in
  # ~60 % of the CPU formulation's time (conv_impl 'fast', built for real
  # shapes). Both are tested against each other (tests/test_layers.py), and
  # the 1- vs 2-device and in-place stage-1 step tests run the CPU formulation
  # (tests/test_gan_steps.py).
  config.model.conv_impl = 'xla'
  config.train.batch_size = 8
  # No G boost: a tiny run then compiles one update program, not two. The
  # tests of the boost turn it on (tests/cli_runs.py, test_gan_steps.py,
  # test_train_loop.py, test_multihost.py).
  config.train.g_boost_start = 1.0
  config.train.num_steps = 4
  config.train.log_every = 2
  config.train.checkpoint_every = 2
  config.train.image_summary_every = 2
  config.stage2.mlp_epochs = 2
  config.stage2.mlp_batch_size = 8
  config.stage2.baseline_epochs = 1
  config.stage2.baseline_batch_size = 8
  config.protocol.num_folds = 2
  return config
