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
  detected without these flags (relgan_jax/stage1/distributed.py).

Any config field can be overridden (`--config.train.batch_size=32`); the config
is locked, so a misspelt field is an error. The config is checked before
anything starts (relgan_jax/config_checks.py). Stage 1 resumes from
workdir/checkpoints when it exists; on SIGTERM it checkpoints and exits with
status 143, on Ctrl-C with 130 (relgan_jax/stage1/preemption.py), so the same
command resumes it. Ctrl-C elsewhere (a fold, the report) ends the run with one
line and status 130; finished folds are kept and a restart skips them.

Errors the user can fix (a config value, a missing or corrupt data file, a
NaN/Inf loss, a workdir in use or made with another config) end the run with
one line `relgan_jax: error: ...` and status 1; a command line that cannot be
parsed (unknown flag, missing config file, misspelt config field) with status
2 (relgan_jax/cli.py). `--verbosity=1` or RELGAN_TRACEBACK=1 shows their
traceback.

One run owns a workdir: process 0 holds an advisory lock on it for the whole
run, and the workdir remembers the config it was made with
(relgan_jax/workdir_guard.py): a second run at the same time, or a resume that
changes what is trained, is refused with the other pid or the differing
fields named.
"""

import logging as py_logging
import os
import re
import sys

from absl import app
from absl import flags
from absl import logging
import jax
from ml_collections import config_flags
import numpy as np

from relgan_jax import cli
from relgan_jax.stage1 import distributed
from relgan_jax.stage1 import host_malloc
from relgan_jax.stage1 import preemption

FLAGS = flags.FLAGS
config_flags.DEFINE_config_file(
    'config', None, 'Config file, e.g. configs/bu3dfe.py.', lock_config=True)
flags.DEFINE_string('workdir', None,
                    'Folder for checkpoints, TensorBoard events and results '
                    '(a local path or gs://bucket/path).')
flags.DEFINE_enum('mode', 'all', ['all', 'train_gan'],
                  'all: the whole protocol '
                  '(relgan_jax.evaluation.protocol.run); '
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

# Failures with a cause the user can fix: reported as one line, no traceback
# (ConfigError, DataError, CheckpointMismatchError, WorkdirError and
# DistributedConfigError are cli.UserErrors).
_USER_ERRORS = (FileNotFoundError, cli.UserError)
PROG = 'relgan_jax'


class _OnlyOrbaxWarnings(py_logging.Filter):
  """Drops orbax's per-save INFO chatter from the console (warnings stay)."""

  def filter(self, record):
    return record.levelno >= py_logging.WARNING or (
        '/orbax/' not in record.pathname)


def _load_data_once(load):
  """`load()` opens the prepared data; with several processes, process 0
  first (it may generate the synthetic set) while the others wait, and
  where process 0 cannot (no data, data refused) every process stops."""
  dataset = distributed.on_primary(load, 'the prepared data',
                                   catch=Exception)
  return load() if dataset is None else dataset


def run(config, workdir: str, mode: str) -> None:
  """Checks the config, then runs `mode` ('all' or 'train_gan')."""
  logging.info('JAX %s: process %d of %d, %d devices (%s); glibc malloc '
               'tuned: %s.', jax.__version__, jax.process_index(),
               jax.process_count(), jax.device_count(), jax.default_backend(),
               host_malloc.is_tuned())
  # Imported here, not at start-up: a mistyped flag or config file is
  # reported before the models, the data side and orbax are imported; and the
  # protocol pulls in stage 2 and the report, which train_gan does not need.
  # pylint: disable=g-import-not-at-top
  from relgan_jax import config_checks
  from relgan_jax import workdir_guard
  from relgan_jax.data import loading
  from relgan_jax.evaluation import protocol
  from relgan_jax.stage1 import train
  # pylint: enable=g-import-not-at-top
  config_checks.check_config(config, num_devices=jax.device_count(),
                             num_processes=jax.process_count())
  # One run per workdir, with the config it was made with; held to the end.
  with workdir_guard.claim(workdir, config, mode):
    # Folds matter only to the protocol (train_gan uses every record).
    dataset = _load_data_once(lambda: loading.load_dataset(
        config, workdir, check_folds=mode == 'all'))
    # The same records as the workdir's results (not a set prepared again).
    workdir_guard.check_data(workdir, dataset.manifest, dataset.data_dir)
    if mode == 'all':
      protocol.run(config, workdir, dataset)
    else:
      # The same record selection (data.min_intensity) as the protocol's
      # pre-training.
      train.train_gan(config, workdir, dataset, loading.select_records(
          dataset, np.arange(len(dataset)), config))


def _error_chain(error: BaseException) -> list[BaseException]:
  chain, seen = [], set()
  while error is not None and id(error) not in seen:
    seen.add(id(error))
    chain.append(error)
    error = error.__cause__ or error.__context__
  return chain


def _config_flag(argv, field: str) -> str:
  """The --config.a.b flag of argv with a part `field` (else field)."""
  for arg in argv[1:]:
    name = arg.split('=', 1)[0]
    if name.startswith('--config.') and field in name.split('.')[1:]:
      return name
  return field


def _flag_error_message(error: BaseException, argv) -> str:
  """The useful sentence of a flag-parsing error (config_flags chains
  KeyError -> KeyError -> AttributeError for a misspelt field)."""
  chain = _error_chain(error)
  for e in chain:  # A misspelt config field: '... Did you mean "x" ...'.
    m = re.search(r'Did you mean "([^"]+)" instead of "([^"]+)"', str(e))
    if m:
      return (f'{_config_flag(argv, m.group(2))}: no such config field; did '
              f'you mean "{m.group(1)}"?')
  for e in reversed(chain):  # Innermost first: an unknown field, no guess.
    if isinstance(e, KeyError) and e.args and isinstance(e.args[0], str):
      field = e.args[0].strip('\'"').splitlines()[0].strip('\'"')
      return f'{_config_flag(argv, field)}: no such config field'
  lines = [line.strip() for line in str(error).splitlines() if line.strip()]
  # A config file's own error (e.g. configs/small.py without a dataset):
  # its message, without the exception's class name that absl adds.
  return (re.sub(r'^\w+Error: ', '', lines[-1]) if lines
          else type(error).__name__)


def _config_path(argv) -> str | None:
  """The --config file named in argv (without a ':args' suffix)."""
  for i, arg in enumerate(argv):
    if arg.startswith('--config='):
      return arg.split('=', 1)[1].split(':', 1)[0]
    if arg == '--config' and i + 1 < len(argv):
      return argv[i + 1].split(':', 1)[0]
  return None


def parse_flags(argv):
  """absl's flag parsing, with every error as one line and status 2."""
  path = _config_path(argv)
  if path is not None and not os.path.isfile(path):
    cli.fail(PROG, f'--config={path}: no such config file (e.g. '
             '--config=configs/tiny.py).', cli.USAGE)
  try:
    rest = FLAGS(argv)
    FLAGS.config.get('seed')  # A config that failed to load raises here.
  except (flags.Error, OSError, KeyError, AttributeError, TypeError,
          ValueError) as e:
    if cli.show_tracebacks():
      raise
    cli.fail(PROG, f'{_flag_error_message(e, argv)} (see --helpshort)',
             cli.USAGE)
  if len(rest) > 1:
    cli.fail(PROG, f'unexpected arguments {rest[1:]}: every setting is a '
             '--flag (see --helpshort).', cli.USAGE)
  return rest


def main(argv):
  del argv  # parse_flags refused anything left over.
  logging.get_absl_handler().addFilter(_OnlyOrbaxWarnings())
  from relgan_jax.stage1 import train  # pylint: disable=g-import-not-at-top
  try:
    distributed.initialize(FLAGS.distributed, distributed.resolve_settings(
        FLAGS.coordinator_address, FLAGS.num_processes, FLAGS.process_id))
    workdir = FLAGS.workdir  # Absolute from here on (orbax needs it).
    workdir = workdir if '://' in workdir else os.path.abspath(workdir)
    run(FLAGS.config, workdir, FLAGS.mode)
  except preemption.Preempted as e:
    logging.warning('%s', e)
    logging.flush()
    sys.exit(e.exit_code)
  except KeyboardInterrupt:
    if cli.show_tracebacks():
      raise
    logging.flush()
    cli.fail(PROG, f'interrupted (Ctrl-C); what was finished in '
             f'{FLAGS.workdir} (stage-1 checkpoints, finished folds) is kept: '
             'start the same command again to continue.', cli.INTERRUPTED)
  except _USER_ERRORS + (train.NonFiniteLossError,) as e:
    if logging.level_debug() or cli.show_tracebacks():
      raise
    logging.flush()
    cli.fail(PROG, e)


if __name__ == '__main__':
  # On CPU, start over with malloc settings that let XLA reuse its big
  # buffers (relgan_jax/stage1/host_malloc.py; RELGAN_NO_MALLOC_TUNING=1
  # skips it).
  if host_malloc.cpu_backend_expected():
    host_malloc.reexec_with_tuned_malloc()
  app.run(main, flags_parser=parse_flags)
