"""A workdir belongs to one run, made with one config.

`claim(workdir, config, mode)` is what `relgan_jax.main` holds for the whole
run (process 0 does the work; with several processes its answer is
broadcast, so every process stops together):

* the lock: an advisory `fcntl.flock` on WORKDIR/run.lock, held until the
  run ends (the kernel drops it when the process dies, so a killed run
  leaves nothing to clean up). A second run on the same workdir is refused
  at once, naming the process that holds it. gs:// workdirs cannot be
  locked (a warning says so).
* the config: WORKDIR/run_config.json records the config and --mode the
  workdir was made with. A run on a workdir that already holds results
  (checkpoints, pretrain/, fold_k/, report.json) with a config that changes
  what is trained is refused, naming every field that differs. Fields that
  change only when things are logged, saved or read (MAY_CHANGE), the folds
  to run, and a longer schedule (MAY_GROW: train.num_steps, or
  train.num_epochs without num_steps) may change, and so may the sections
  the mode never reads (UNUSED_BY_MODE: protocol and stage 2 under
  --mode=train_gan); the record then holds the new values. The record also
  keeps a digest of the prepared records (`check_data`, once they are
  loaded): the same data.dir prepared again is refused too.
"""

import contextlib
import datetime
import hashlib
import json
import os
import socket
import sys
from typing import Any, Iterator, Mapping, Optional

from absl import logging
from etils import epath

from relgan_jax import cli
from relgan_jax.evaluation import run_files
from relgan_jax.stage1 import distributed

LOCK_FILE = 'run.lock'
CONFIG_FILE = 'run_config.json'
DATA_DIGEST = 'data_digest'  # In CONFIG_FILE: the records trained on.

# May differ on resume: when things are logged, saved or read, never what is
# trained.
MAY_CHANGE = frozenset({
    'train.log_every', 'train.checkpoint_every', 'train.keep_checkpoints',
    'train.image_summary_every', 'train.preemption_grace_secs',
    'data.num_workers', 'data.prefetch_buffer_size', 'data.read_threads',
    'data.keep_decoded_mib', 'data.keep_crops_mib', 'protocol.folds'})
# May grow on resume (the same run, trained longer).
MAY_GROW = frozenset({'train.num_steps', 'train.num_epochs'})
# Sections a mode never reads: stage 1 alone (--mode=train_gan) has no folds,
# no pre-trained start and no stage 2.
UNUSED_BY_MODE = {'train_gan': ('protocol.', 'stage2.')}


class WorkdirError(cli.UserError):
  """The workdir cannot be used by this run; the message says why."""


class WorkdirLockedError(WorkdirError):
  """Another run holds the workdir's lock."""


class ConfigChangedError(WorkdirError):
  """The workdir was made with a config that trains something else."""


# --- The lock -----------------------------------------------------------------


class Lock:
  """A held flock; `release()` (or process exit) frees it."""

  def __init__(self, path: str, fd: int):
    self.path, self._fd = path, fd

  def release(self) -> None:
    if self._fd is None:
      return
    import fcntl  # pylint: disable=g-import-not-at-top
    try:
      fcntl.flock(self._fd, fcntl.LOCK_UN)
    finally:
      os.close(self._fd)
      self._fd = None


def _holder(fd: int) -> str:
  """Who holds the lock, from what it wrote into the file."""
  try:
    os.lseek(fd, 0, os.SEEK_SET)
    info = json.loads(os.read(fd, 4096).decode() or '{}')
  except (OSError, ValueError):
    info = {}
  if not info.get('pid'):
    return 'a process that has not yet written its pid'
  gone = ''
  if info.get('host') == socket.gethostname():
    try:
      os.kill(int(info['pid']), 0)
    except ProcessLookupError:  # A child it forked may still hold the lock.
      gone = ', which has ended; a process it started still holds the lock'
    except (OSError, ValueError):
      pass
  return (f'pid {info["pid"]} on {info.get("host", "?")}, started '
          f'{info.get("started", "?")}{gone}')


def acquire_lock(workdir: str) -> Optional[Lock]:
  """Locks `workdir` (created if missing) for this process.

  Returns:
    The held Lock, or None where locking is impossible (gs:// workdirs, file
    systems without flock: a warning says so).

  Raises:
    WorkdirLockedError: another process holds it (the message names it).
    WorkdirError: the workdir is not a folder.
  """
  if '://' in workdir:
    logging.warning('%s cannot be locked (not a local path): make sure no '
                    'other run uses it.', workdir)
    return None
  try:
    import fcntl  # pylint: disable=g-import-not-at-top
  except ImportError:  # Not on POSIX.
    logging.warning('No fcntl here: %s is not locked.', workdir)
    return None
  if os.path.exists(workdir) and not os.path.isdir(workdir):
    raise WorkdirError(f'--workdir {workdir} is a file, not a folder.')
  try:
    os.makedirs(workdir, exist_ok=True)
  except OSError as e:  # A file on the way, no permission, ...
    raise WorkdirError(f'cannot create --workdir {workdir}: '
                       f'{e.strerror or e}.') from e
  path = os.path.join(workdir, LOCK_FILE)
  fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
  except BlockingIOError:
    holder = _holder(fd)
    os.close(fd)
    raise WorkdirLockedError(
        f'{workdir} is in use by another run ({holder}; lock {path}). Wait '
        'for it to end, or use another --workdir.') from None
  except OSError as e:  # E.g. ENOLCK on a file system without locks.
    os.close(fd)
    logging.warning('Cannot lock %s (%s): make sure no other run uses it.',
                    path, e)
    return None
  started = datetime.datetime.now(datetime.timezone.utc).strftime(
      '%Y-%m-%d %H:%M:%S UTC')
  os.ftruncate(fd, 0)
  os.lseek(fd, 0, os.SEEK_SET)
  os.write(fd, json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                           'started': started,
                           'argv': sys.argv}).encode())
  logging.info('Locked %s (held until this run ends).', path)
  return Lock(path, fd)


# --- The config record -----------------------------------------------------


def _jsonable(config) -> dict[str, Any]:
  """The config as plain JSON data (tuples as lists)."""
  return json.loads(json.dumps(config.to_dict(), sort_keys=True))


def flatten(tree: Mapping[str, Any], prefix: str = '') -> dict[str, Any]:
  """{'a': {'b': 1}} -> {'a.b': 1}."""
  out = {}
  for key, value in tree.items():
    name = f'{prefix}{key}'
    if isinstance(value, Mapping):
      out.update(flatten(value, name + '.'))
    else:
      out[name] = value
  return out


def differences(old: Mapping[str, Any], new: Mapping[str, Any],
                mode: str = 'all') -> list[tuple[str, Any, Any]]:
  """(field, old value, new value) of every field that may not change.

  Fields only one side has (a config schema of another version) are not
  compared, nor the sections `mode` does not read (UNUSED_BY_MODE).
  """
  old_flat, new_flat = flatten(old), flatten(new)
  unused = UNUSED_BY_MODE.get(mode, ())
  out = []
  for field in sorted(set(old_flat) & set(new_flat)):
    a, b = old_flat[field], new_flat[field]
    if a == b or field in MAY_CHANGE or field.startswith(unused):
      continue
    if field in MAY_GROW and _grows(field, a, b, old_flat, new_flat):
      continue
    out.append((field, a, b))
  return out


def _grows(field: str, a: Any, b: Any, old_flat, new_flat) -> bool:
  if not all(isinstance(v, int) for v in (a, b)) or b < a:
    return False
  if field == 'train.num_epochs':  # Only matters when num_steps is unset.
    return (old_flat.get('train.num_steps', -1) <= 0
            and new_flat.get('train.num_steps', -1) <= 0)
  return a > 0


def _short(value: Any) -> str:
  text = json.dumps(value)
  return text if len(text) <= 40 else text[:37] + '...'


def check_and_record(workdir: str, config, mode: str) -> None:
  """Refuses a config that changes what the workdir's results were trained
  with (ConfigChangedError naming the fields); then records this one."""
  path = epath.Path(workdir) / CONFIG_FILE
  new = {'mode': mode, 'config': _jsonable(config)}
  if path.exists() and run_files.holds_trained_parts(workdir):
    try:
      old = json.loads(path.read_text())
      old_mode, old_config = old['mode'], old['config']
    except (ValueError, KeyError, TypeError) as e:
      raise WorkdirError(f'{path} is unreadable ({e}); use another --workdir '
                         'or remove that file if you know the config.') from e
    if old_mode != mode:
      raise ConfigChangedError(
          f'{workdir} was made by --mode={old_mode}, this run is '
          f'--mode={mode}; use another --workdir.')
    if old.get(DATA_DIGEST):  # Kept: the data of the results.
      new[DATA_DIGEST] = old[DATA_DIGEST]
    changed = differences(old_config, new['config'], mode)
    if changed:
      shown = ', '.join(f'{f} {_short(a)} -> {_short(b)}'
                        for f, a, b in changed[:8])
      more = f' and {len(changed) - 8} more' if len(changed) > 8 else ''
      raise ConfigChangedError(
          f'{workdir} holds a run made with another config: {shown}{more} '
          f'(recorded in {path}). Resuming would mix two configs: use another '
          '--workdir for these settings. Only logging, checkpoint and '
          'data-loading cadence, protocol.folds and a longer '
          'train.num_steps may change on resume.')
  elif run_files.holds_trained_parts(workdir):
    logging.info('%s has results but no %s (made before it existed): '
                 'recording this run\'s config.', workdir, CONFIG_FILE)
  _write_record(workdir, new)


def _write_record(workdir: str, record: Mapping[str, Any]) -> None:
  path = epath.Path(workdir) / CONFIG_FILE
  tmp = epath.Path(workdir) / (CONFIG_FILE + '.tmp')
  tmp.parent.mkdir(parents=True, exist_ok=True)
  tmp.write_text(json.dumps(record, indent=1, sort_keys=True) + '\n')
  tmp.replace(path)


def data_digest(manifest: Mapping[str, Any]) -> str:
  """Identifies a prepared set's records (shards with their byte sizes,
  folds, classes, identities), not when or how fast it was made."""
  keys = ('name', 'num_records', 'num_folds', 'folds', 'shards',
          'expression_classes', 'identities')
  text = json.dumps({k: manifest.get(k) for k in keys}, sort_keys=True)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def check_and_record_data(workdir: str, manifest: Mapping[str, Any],
                          data_dir: str) -> None:
  """Refuses prepared data other than the data the workdir's results were
  trained on (the same path prepared again); then records its digest.
  Call after check_and_record."""
  path = epath.Path(workdir) / CONFIG_FILE
  record = json.loads(path.read_text()) if path.exists() else {}
  digest, old = data_digest(manifest), record.get(DATA_DIGEST)
  if old and old != digest and run_files.holds_trained_parts(workdir):
    raise ConfigChangedError(
        f'the prepared data in {data_dir} is not the data {workdir} was '
        f'trained on (records digest {old} -> {digest}: prepared again?). '
        'Use another --workdir for the new data.')
  if old != digest:
    _write_record(workdir, dict(record, **{DATA_DIGEST: digest}))


def check_data(workdir: str, manifest: Mapping[str, Any],
               data_dir: str) -> None:
  """check_and_record_data on process 0; its refusal stops every process."""
  distributed.on_primary(
      lambda: check_and_record_data(workdir, manifest, data_dir),
      f'the prepared data {data_dir}', catch=WorkdirError,
      refused=WorkdirError)


# --- Both, for a whole run ----------------------------------------------------


@contextlib.contextmanager
def claim(workdir: str, config, mode: str) -> Iterator[None]:
  """Holds the workdir for the duration of the `with` block (see the module
  docstring). Raises a WorkdirError subclass on every process when process 0
  cannot have it."""

  def lock_and_check() -> Optional[Lock]:
    lock = acquire_lock(workdir)
    try:
      check_and_record(workdir, config, mode)
    except WorkdirError:
      if lock is not None:
        lock.release()
      raise
    return lock

  lock = distributed.on_primary(lock_and_check, workdir, catch=WorkdirError,
                                refused=WorkdirError)
  try:
    yield
  finally:
    if lock is not None:
      lock.release()
