r"""Command line for REL-GAN: the whole protocol, or stage 1 alone.

  # Everything (per fold: stage 1, Ges export, stage 2, report):
  python -m relgan_jax.main --config=configs/bu3dfe.py --workdir=runs/bu3dfe

  # Stage 1 only, on every prepared record (e.g. BU-4DFE pre-training):
  python -m relgan_jax.main --config=configs/bu4dfe.py --workdir=runs/bu4dfe \
      --mode=train_gan

  # Several processes (one per host; here two on one machine, CPU/gloo):
  python -m relgan_jax.main --config=... --workdir=... --mode=train_gan \
      --coordinator_address=localhost:12355 --num_processes=2 --process_id=0
  (and the same with --process_id=1). Cloud TPU VMs, SLURM and Open MPI are
  detected without these flags (relgan_jax/distributed.py).

Any config field can be overridden (`--config.train.batch_size=32`); the config
is locked, so a misspelt field is an error. The config is checked before
anything starts (relgan_jax/config_checks.py). Stage 1 resumes from
workdir/checkpoints when it exists; on SIGTERM it checkpoints and exits with
status 143 (relgan_jax/preemption.py), so the same command resumes it.

Errors the user can fix (a config value, a missing or corrupt data file, a
NaN/Inf loss) end the run with one line `relgan_jax: error: ...` and status 1;
`--verbosity=1` shows their traceback.
"""

import logging as py_logging
import os
import sys

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags
import numpy as np

from relgan_jax import checkpointing
from relgan_jax import config_checks
from relgan_jax import distributed
from relgan_jax import host_malloc
from relgan_jax import preemption
from relgan_jax import records

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    'config', None, 'Config file, e.g. configs/bu3dfe.py.', lock_config=True)
flags.DEFINE_string('workdir', None,
                    'Folder for checkpoints, TensorBoard events and results '
                    '(a local path or gs://bucket/path).')
flags.DEFINE_enum('mode', 'all', ['all', 'train_gan'],
                  'all: the whole protocol (relgan_jax.protocol.run); '
                  'train_gan: stage 1 alone on every prepared record.')
flags.DEFINE_enum('distributed', 'auto', list(distributed.MODES),
                  'jax.distributed: auto = when the flags below (or their '
                  'JAX_* environment variables) are given or on a Cloud TPU '
                  'VM / SLURM / Open MPI; on = always; off = never.')
flags.DEFINE_string('coordinator_address', None,
                    'HOST:PORT of process 0 (env JAX_COORDINATOR_ADDRESS).')
flags.DEFINE_integer('num_processes', None,
                     'Number of processes (env JAX_NUM_PROCESSES).')
flags.DEFINE_integer('process_id', None,
                     'This process, 0..num_processes-1 (env JAX_PROCESS_ID).')
flags.mark_flags_as_required(['config', 'workdir'])

# Failures with a cause the user can fix: reported as one line, no traceback.
_USER_ERRORS = (config_checks.ConfigError, distributed.DistributedConfigError,
                records.DataError, FileNotFoundError,
                checkpointing.CheckpointMismatchError)


class _OnlyOrbaxWarnings(py_logging.Filter):
  """Drops orbax's per-save INFO chatter from the console (warnings stay)."""

  def filter(self, record):
    return record.levelno >= py_logging.WARNING or (
        '/orbax/' not in record.pathname)


def _load_data_once(config, workdir):
  """Opens the prepared data; with several processes, process 0 first (it
  may generate the synthetic set) while the others wait."""
  from relgan_jax import protocol  # pylint: disable=g-import-not-at-top
  if jax.process_count() == 1:
    return protocol.load_dataset(config, workdir)
  # pylint: disable-next=g-import-not-at-top
  from jax.experimental import multihost_utils
  dataset = None
  if jax.process_index() == 0:
    dataset = protocol.load_dataset(config, workdir)
  multihost_utils.sync_global_devices('relgan_jax: prepared data ready')
  return dataset or protocol.load_dataset(config, workdir)


def run(config, workdir: str, mode: str) -> None:
  """Checks the config, then runs `mode` ('all' or 'train_gan')."""
  logging.info('JAX %s: process %d of %d, %d devices (%s); glibc malloc '
               'tuned: %s.', jax.__version__, jax.process_index(),
               jax.process_count(), jax.device_count(), jax.default_backend(),
               host_malloc.is_tuned())
  config_checks.check_config(config, num_devices=jax.device_count(),
                             num_processes=jax.process_count())
  # Imported here: the protocol pulls in stage 2 and the report, which
  # train_gan does not need.
  from relgan_jax import protocol  # pylint: disable=g-import-not-at-top
  from relgan_jax import train  # pylint: disable=g-import-not-at-top
  dataset = _load_data_once(config, workdir)
  if mode == 'all':
    protocol.run(config, workdir)
  else:
    # The same record selection (data.min_intensity) as the protocol's
    # pre-training.
    train.train_gan(config, workdir, dataset, protocol.select_records(
        dataset, np.arange(len(dataset)), config))


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f'Unexpected arguments: {argv[1:]}')
  logging.get_absl_handler().addFilter(_OnlyOrbaxWarnings())
  from relgan_jax import train  # pylint: disable=g-import-not-at-top
  try:
    distributed.initialize(FLAGS.distributed, distributed.resolve_settings(
        FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id))
    workdir = FLAGS.workdir  # Absolute from here on (orbax needs it).
    workdir = workdir if '://' in workdir else os.path.abspath(workdir)
    run(FLAGS.config, workdir, FLAGS.mode)
  except preemption.Preempted as e:
    logging.warning('%s', e)
    logging.flush()
    sys.exit(preemption.EXIT_CODE)
  except _USER_ERRORS + (train.NonFiniteLossError,) as e:
    if logging.level_debug():
      raise
    logging.flush()
    sys.exit(f'relgan_jax: error: {e}')


if __name__ == '__main__':
  # On CPU, start over with malloc settings that let XLA reuse its big
  # buffers (relgan_jax/host_malloc.py; RELGAN_NO_MALLOC_TUNING=1 skips it).
  if host_malloc.cpu_backend_expected():
    host_malloc.reexec_with_tuned_malloc()
  app.run(main)
