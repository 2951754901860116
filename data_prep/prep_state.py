"""What a prepared folder remembers between runs of data_prep.prepare.

- The raw tree's inventory (OUT/raw_inventory.json: size and modification time
  of every raw file), so that a re-run notices new, removed and modified
  inputs instead of saying "nothing to do".
- The settings the folder was made with (its manifest's 'prep'): a folder made
  with other settings is replaced only with --overwrite (`previous_manifest`).
- The per-image work, in restartable chunks (OUT/.prep_work/chunk-*.pkl,
  `process_all`): an interrupted run resumes where it stopped, as long as the
  inputs and image settings are the same (`work_fingerprint`).
"""

from concurrent import futures
import hashlib
import json
import multiprocessing
import os
import pickle
import shutil
import sys
import time
from typing import Any, Iterator, Sequence

from data_prep import prep_worker
from data_prep.readers import base
from relgan_jax.data import records

WORK_DIR = '.prep_work'
CHUNK = 'chunk-{:06d}.pkl'
INVENTORY = 'raw_inventory.json'


class OutDirError(FileExistsError):
  """out_dir is a file, or holds a prepared set that may not be replaced."""


def atomic_write(path: str, data: bytes) -> None:
  tmp = f'{path}.tmp-{os.getpid()}'
  with open(tmp, 'wb') as f:
    f.write(data)
  os.replace(tmp, path)


def work_fingerprint(settings: dict[str, Any], items: Sequence[base.Item],
                 inventory: dict[str, Any] | None = None) -> str:
  """Identifies the per-image work: the inputs (with their size and mtime
  from `inventory`, so an image changed between an interruption and the
  restart is processed again) and the image settings only, so that chunks
  stay valid when e.g. the number of folds changes."""
  image_settings = {k: v for k, v in settings.items()
                    if k not in ('num_folds', 'seed', 'options')}
  h = hashlib.sha256(json.dumps(image_settings, sort_keys=True).encode())
  inventory = inventory or {}
  for it in items:
    h.update(f'{it.path}\0{it.expression}\0{it.subject}\0{it.split}\0'
             f'{it.intensity}\0{it.stage1_only}\0{inventory.get(it.path)}\n'
             .encode())
  return h.hexdigest()


def process_all(items: Sequence[base.Item], work: str, raw_dir: str,
                 settings: dict[str, Any], *, workers: int, chunk_size: int,
                 progress: bool, desc: str) -> int:
  """Processes every item not already in a finished chunk of `work`.

  Returns:
    The number of chunks (chunk k holds the results of items k*chunk_size...).
  """
  num_chunks = -(-len(items) // chunk_size)
  chunk = lambda k: range(k * chunk_size, min((k + 1) * chunk_size, len(items)))
  todo = [k for k in range(num_chunks)
          if not os.path.exists(os.path.join(work, CHUNK.format(k)))]
  jobs = [(i, items[i].path) for k in todo for i in chunk(k)]
  done = len(items) - len(jobs)
  if done:
    print(f'resuming: {done} of {len(items)} images already processed in '
          f'{work}')
  from tqdm import tqdm  # pylint: disable=g-import-not-at-top
  # A bar on a terminal; in a log (not a TTY) a line every 30 s instead.
  tty = progress and sys.stderr.isatty()
  bar = tqdm(total=len(items), initial=done, unit='img', desc=desc,
             disable=not tty, file=sys.stderr, smoothing=0.1)
  last_line, count = time.monotonic(), done
  pool = None
  if workers > 1 and len(jobs) > 1:
    # spawn, not fork: the parent may hold JAX/absl threads (e.g. under tests).
    # An executor, not multiprocessing.Pool: a worker whose initializer fails
    # breaks it (BrokenProcessPool) instead of being restarted forever.
    pool = futures.ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context('spawn'),
        initializer=prep_worker.init_worker, initargs=(raw_dir, settings))
    results = pool.map(prep_worker.work, jobs, chunksize=4)
  elif jobs:
    results = map(prep_worker.Processor(raw_dir, settings), jobs)
  else:
    results = iter(())
  try:
    buffer = []
    for result in results:
      buffer.append(result)
      bar.update(1)
      count += 1
      if progress and not tty and time.monotonic() - last_line >= 30:
        print(f'{desc}: {count} of {len(items)} images', file=sys.stderr,
              flush=True)
        last_line = time.monotonic()
      k = result['index'] // chunk_size
      if len(buffer) == len(chunk(k)):  # Results arrive in order.
        atomic_write(os.path.join(work, CHUNK.format(k)),
                      pickle.dumps(buffer, protocol=pickle.HIGHEST_PROTOCOL))
        buffer = []
  finally:
    bar.close()
    if pool is not None:
      pool.shutdown(cancel_futures=True)
  return num_chunks


def load_chunks(work: str, num_chunks: int) -> Iterator[dict[str, Any]]:
  for k in range(num_chunks):
    with open(os.path.join(work, CHUNK.format(k)), 'rb') as f:
      yield from pickle.load(f)



def raw_inventory(raw_dir: str) -> dict[str, list[int]]:
  """{path relative to raw_dir: [size, mtime_ns]} of every visible file."""
  out = {}
  for dirpath, dirnames, names in os.walk(raw_dir):
    dirnames[:] = [d for d in dirnames if not d.startswith('.')]
    for name in names:
      if name.startswith('.'):
        continue
      path = os.path.join(dirpath, name)
      try:
        st = os.stat(path)
      except OSError:  # Vanished, or a broken link: not an input.
        continue
      out[base.relpath(path, raw_dir)] = [int(st.st_size),
                                          int(st.st_mtime_ns)]
  return dict(sorted(out.items()))


def inventory_changes(old: dict[str, Any], new: dict[str, Any]) -> str:
  """'' when equal, else e.g. '2 new (e.g. a/b.png), 1 removed (...)'."""
  added = sorted(set(new) - set(old))
  removed = sorted(set(old) - set(new))
  modified = sorted(p for p in set(old) & set(new)
                    if list(old[p]) != list(new[p]))
  return ', '.join(f'{len(paths)} {what} (e.g. {paths[0]})'
                   for what, paths in (('new', added), ('removed', removed),
                                       ('modified', modified)) if paths)


def previous_manifest(out_dir: str, settings: dict[str, Any],
                       overwrite: bool, inventory: dict[str, Any]
                       ) -> dict[str, Any] | None:
  """A complete out_dir made with `settings` from the raw tree as it is now
  (`inventory`), else None (see `prepare`)."""
  manifest_path = os.path.join(out_dir, records.MANIFEST)
  if not os.path.exists(manifest_path):
    return None
  with open(manifest_path) as f:
    previous = json.load(f)
  if previous.get('prep') == settings and not overwrite:
    inventory_path = os.path.join(out_dir, INVENTORY)
    if not os.path.exists(inventory_path):
      print(f'{out_dir} is already prepared with these settings; nothing to '
            f'do (it has no {INVENTORY}, so changes of the raw tree since '
            'then cannot be seen; pass --overwrite to redo it)')
      return previous
    with open(inventory_path) as f:
      changes = inventory_changes(json.load(f).get('files', {}), inventory)
    if changes:
      raise OutDirError(
          f'{out_dir} was prepared from an earlier state of '
          f'{settings["raw_dir"]}; since then: {changes}. Pass --overwrite '
          'to prepare it again')
    print(f'{out_dir} is already prepared with these settings from the raw '
          'tree as it is; nothing to do (pass --overwrite to redo it)')
    return previous
  if not overwrite:
    raise OutDirError(
        f'{out_dir} holds a prepared dataset made with other settings '
        f'({settings_diff(previous.get("prep") or {}, settings)}); pass '
        '--overwrite to replace it')
  os.remove(manifest_path)  # From here on the folder is incomplete.
  return None


def settings_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
  """'seed 0 -> 1, options.subject_regex ...' (the settings that differ)."""
  def flat(d, prefix=''):
    out = {}
    for k, v in d.items():
      if isinstance(v, dict):
        out.update(flat(v, f'{prefix}{k}.'))
      else:
        out[f'{prefix}{k}'] = v
    return out
  a, b = flat(old), flat(new)
  keys = sorted(k for k in set(a) | set(b) if a.get(k, '?') != b.get(k, '?'))
  return ', '.join(f'{k} {a.get(k, "unset")!r} -> {b.get(k, "unset")!r}'
                   for k in keys[:6]) + (' ...' if len(keys) > 6 else '')


def open_work_dir(out_dir: str, state: dict[str, Any]) -> str:
  """OUT/.prep_work, kept if it was made for the same `state`, else emptied."""
  work = os.path.join(out_dir, WORK_DIR)
  state_path = os.path.join(work, 'state.json')
  if os.path.isdir(work):
    try:
      with open(state_path) as f:
        same = json.load(f) == state
    except (OSError, ValueError):
      same = False
    if not same:
      print(f'discarding {work}: made with other settings or inputs')
      shutil.rmtree(work)
  os.makedirs(work, exist_ok=True)
  atomic_write(state_path, json.dumps(state).encode())
  return work
