r"""Command line for REL-GAN: the whole protocol, or stage 1 alone.

  # Everything (per fold: stage 1, Ges export, stage 2, report):
  python -m relgan_jax.main --config=configs/bu3dfe.py --workdir=runs/bu3dfe

  # Stage 1 only, on every prepared record (e.g. BU-4DFE pre-training):
  python -m relgan_jax.main --config=configs/bu4dfe.py --workdir=runs/bu4dfe \
      --mode=train_gan

Any config field can be overridden (`--config.train.batch_size=32`); the config
is locked, so a misspelt field is an error. Stage 1 resumes from
workdir/checkpoints when it exists.
"""

import logging as py_logging

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags
import numpy as np

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    'config', None, 'Config file, e.g. configs/bu3dfe.py.', lock_config=True)
flags.DEFINE_string('workdir', None,
                    'Folder for checkpoints, TensorBoard events and results.')
flags.DEFINE_enum('mode', 'all', ['all', 'train_gan'],
                  'all: the whole protocol (relgan_jax.protocol.run); '
                  'train_gan: stage 1 alone on every prepared record.')
flags.mark_flags_as_required(['config', 'workdir'])


class _OnlyOrbaxWarnings(py_logging.Filter):
  """Drops orbax's per-save INFO chatter from the console (warnings stay)."""

  def filter(self, record):
    return record.levelno >= py_logging.WARNING or (
        '/orbax/' not in record.pathname)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  logging.get_absl_handler().addFilter(_OnlyOrbaxWarnings())
  config, workdir = FLAGS.config, FLAGS.workdir
  logging.info('JAX %s: process %d of %d, %d devices (%s).', jax.__version__,
               jax.process_index(), jax.process_count(), jax.device_count(),
               jax.default_backend())
  # Imported here: the protocol pulls in stage 2 and the report, which
  # train_gan does not need.
  from relgan_jax import protocol  # pylint: disable=g-import-not-at-top
  if FLAGS.mode == 'all':
    protocol.run(config, workdir)
    return
  from relgan_jax import train  # pylint: disable=g-import-not-at-top
  dataset = protocol.load_dataset(config, workdir)
  train.train_gan(config, workdir, dataset, np.arange(len(dataset)))


if __name__ == '__main__':
  app.run(main)
