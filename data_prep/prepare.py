r"""Prepares a raw face dataset as aligned, labelled, fold-assigned TFRecords.

  python -m data_prep.prepare --dataset=ckplus --raw_dir=/data/CK+ \
      --out_dir=data/ckplus --workers=4

Datasets: ckplus, oulu_casia, bu3dfe, bu4dfe, sfew, image_folder (layouts and
protocols in DESIGN.md §5-§6 and the `data_prep.readers` modules). Each image
is read in a worker process (`data_prep.prep_worker`), converted to RGB
(grayscale replicated to 3 channels), its face detected and warped so the eyes sit on fixed positions of a stored_size crop
(`relgan_jax.align`; `--no_align` only resizes, for pre-aligned data, and is the
default for image_folder), and written through
`relgan_jax.records.write_prepared_dataset` with subject-independent folds from
`relgan_jax.folds.assign_folds` (SFEW: Val = fold 0, Train = fold -1).

Restartable: processed images are kept in OUT/.prep_work/ in chunks that only
count once renamed into place, so an interrupted run resumes where it stopped
(with the same settings; different settings start over). The manifest is
written last, so a folder without manifest.json is never taken as complete. A
complete folder with the same settings, made from the raw tree as it is now
(OUT/raw_inventory.json: size and mtime of every raw file), is left as it is;
different settings, or new, removed or modified raw files, need --overwrite
(the refusal names them). The raw tree is only read. Bad input is one line
`data_prep.prepare: error: ...`, status 2 for the command line, 1 otherwise
(relgan_jax/cli.py).

CK+ and Oulu-CASIA also store each used sequence's first (neutral) frame as a
stage-1-only record (expression -1, `label/stage1_only` = 1; DESIGN.md §4):
stage 1 may use it as x_t, nothing else sees it. These records follow the
protocol's records, belong to subjects that have protocol records (others are
dropped and counted) and are counted apart in the report
(`--no_neutral_first_frames` leaves them out).

OUT/prep_report.json lists counts per class / subject / split and every input
not used, with its path and reason; a summary line is printed.
"""

import argparse
from concurrent import futures
import hashlib
import json
import multiprocessing
import os
import pickle
import re
import shutil
import sys
import time
from typing import Any, Iterator, Sequence

from data_prep import prep_report
from data_prep import prep_worker
from data_prep import readers
from data_prep.readers import base
from relgan_jax import align as align_lib
from relgan_jax import cli
from relgan_jax import folds as folds_lib
from relgan_jax import records

WORK_DIR = '.prep_work'
CHUNK = 'chunk-{:06d}.pkl'
# Size and modification time of every file of the raw tree when OUT was made:
# a re-run notices new, removed and modified inputs.
INVENTORY = 'raw_inventory.json'
_NO_ALIGN_BY_DEFAULT = frozenset({'image_folder'})
PROG = 'data_prep.prepare'


class PrepError(ValueError):
  """Arguments or inputs that cannot be prepared (the message says why)."""


class OutDirError(FileExistsError):
  """out_dir is a file, or holds a prepared set that may not be replaced."""


# ------------------------------------------------------------------------------
# Restartable processing in chunks.
# ------------------------------------------------------------------------------


def _atomic_write(path: str, data: bytes) -> None:
  tmp = f'{path}.tmp-{os.getpid()}'
  with open(tmp, 'wb') as f:
    f.write(data)
  os.replace(tmp, path)


def _fingerprint(settings: dict[str, Any], items: Sequence[base.Item],
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


def _process_all(items: Sequence[base.Item], work: str, raw_dir: str,
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
        _atomic_write(os.path.join(work, CHUNK.format(k)),
                      pickle.dumps(buffer, protocol=pickle.HIGHEST_PROTOCOL))
        buffer = []
  finally:
    bar.close()
    if pool is not None:
      pool.shutdown(cancel_futures=True)
  return num_chunks


def _load_chunks(work: str, num_chunks: int) -> Iterator[dict[str, Any]]:
  for k in range(num_chunks):
    with open(os.path.join(work, CHUNK.format(k)), 'rb') as f:
      yield from pickle.load(f)


# ------------------------------------------------------------------------------
# The whole run.
# ------------------------------------------------------------------------------


def _resolve_duplicates(items: Sequence[base.Item],
                        results: Sequence[dict[str, Any]]
                       ) -> dict[int, base.Rejection]:
  """Rejections for usable images whose bytes repeat another usable image.

  Same bytes and label: the first (in listing order) is kept, the rest are
  'duplicate'. Same bytes, different labels: all copies are 'ambiguous label'.
  """
  groups: dict[str, list[int]] = {}
  for r in results:
    if 'png' in r:
      groups.setdefault(r['sha1'], []).append(r['index'])
  out = {}
  for idx in groups.values():
    if len(idx) < 2:
      continue
    labels = {items[i].expression for i in idx}
    if len(labels) > 1:
      for i in idx:
        others = [items[j].path for j in idx if j != i]
        out[i] = base.Rejection(items[i].path, base.AMBIGUOUS_LABEL,
                                f'same image content with another label at '
                                f'{", ".join(others)}')
    else:
      for i in idx[1:]:
        out[i] = base.Rejection(items[i].path, base.DUPLICATE,
                                f'same image content as {items[idx[0]].path}')
  return out


def prepare(dataset: str, raw_dir: str, out_dir: str, *, workers: int = 2,
            align: bool | None = None, num_folds: int | None = None,
            seed: int = 0, stored_size: int = 112, backend: str = 'dlib',
            landmarks: int = 68,
            eye_template: Sequence[float] = align_lib.DEFAULT_EYE_TEMPLATE,
            detect_max_side: int = 640,
            options: base.ReaderOptions = base.ReaderOptions(),
            records_per_shard: int = 1000, overwrite: bool = False,
            progress: bool = True, chunk_size: int = 512) -> dict[str, Any]:
  """Prepares one dataset; returns the manifest (see the module docstring).

  Args:
    dataset: a key of `data_prep.readers.READERS`.
    raw_dir: the raw dataset folder (only read).
    out_dir: the prepared folder (must not lie inside raw_dir).
    workers: processes for decoding/detection (<= 1: in this process).
    align: detect and align faces; None = the dataset's default (True except
      for image_folder).
    num_folds: subject-independent folds; None = 10 (SFEW: always 1, Val).
    seed: fold-assignment seed.
    stored_size: side of the stored square faces.
    backend, landmarks, eye_template, detect_max_side: alignment settings
      (`relgan_jax.align`).
    options: the readers' protocol options.
    records_per_shard: records per TFRecord shard.
    overwrite: replace a complete prepared folder made with other settings.
    progress: show a progress bar.
    chunk_size: images per restart checkpoint.

  Returns:
    The manifest dict.

  Raises:
    ValueError: bad arguments, or no usable image at all.
    FileExistsError: out_dir is complete with other settings (no overwrite).
  """
  if dataset not in readers.READERS:
    raise PrepError(f'unknown dataset {dataset!r}; known: '
                     f'{sorted(readers.READERS)}')
  raw_dir, out_dir = os.path.abspath(raw_dir), os.path.abspath(out_dir)
  real_raw, real_out = os.path.realpath(raw_dir), os.path.realpath(out_dir)
  if os.path.commonpath([real_raw, real_out]) == real_raw:
    raise PrepError(f'out_dir {out_dir} lies inside raw_dir {raw_dir}; the '
                     'raw tree is never written to')
  listing = readers.READERS[dataset](raw_dir, options)
  if align is None:
    align = dataset not in _NO_ALIGN_BY_DEFAULT
  if listing.fixed_split:
    num_folds = 1
  elif num_folds is None:
    num_folds = 10
  settings = dict(
      dataset=dataset, raw_dir=raw_dir, align=bool(align), backend=backend,
      landmarks=int(landmarks), eye_template=[float(v) for v in eye_template],
      detect_max_side=int(detect_max_side), stored_size=int(stored_size),
      num_folds=int(num_folds), seed=int(seed), options=options.as_dict())
  settings['options']['classes'] = (list(options.classes) if options.classes
                                    else None)
  if not options.subject_regex:  # Folders made before the option compare equal.
    settings['options'].pop('subject_regex_on', None)
  for note in listing.notes:  # Also in prep_report.json.
    print(f'note: {note}', file=sys.stderr)
  num_subjects = len({it.subject for it in listing.items})
  if not listing.fixed_split and num_folds > num_subjects:
    no_subject = [r.path for r in listing.rejections
                  if r.reason == base.NO_SUBJECT]
    why = (f"; subject_regex '{options.subject_regex}' left out "
           f'{len(no_subject)} of {len(no_subject) + len(listing.items)} '
           f'images (e.g. {no_subject[0]})' if no_subject else '')
    raise PrepError(f'num_folds={num_folds} exceeds the {num_subjects} '
                    f'subjects listed in {raw_dir}{why}; lower --num_folds '
                    'or fix the subject ids')
  if stored_size < 16:
    raise PrepError(f'stored_size must be >= 16 pixels, got {stored_size}')
  if os.path.exists(out_dir) and not os.path.isdir(out_dir):
    raise OutDirError(f'out_dir {out_dir} is a file, not a folder')
  if align:  # Fail early (and in this process) if the backend is missing.
    if backend not in align_lib.BACKENDS:
      raise PrepError(f'unknown alignment backend {backend!r}; known: '
                       f'{sorted(align_lib.BACKENDS)}')
    try:
      align_lib.template_eyes(stored_size, eye_template)
      align_lib.landmark_model_path(landmarks)
    except ValueError as e:
      raise PrepError(str(e)) from e

  inventory = raw_inventory(raw_dir)  # Before any image is read.
  previous = _previous_manifest(out_dir, settings, overwrite, inventory)
  if previous is not None:
    return previous
  # The protocol's images, then the stage-1-only ones (x_t only).
  items = listing.items + (listing.stage1_only if listing.has_identities
                           else [])
  work = _open_work_dir(out_dir, dict(
      fingerprint=_fingerprint(settings, items, inventory),
      chunk_size=chunk_size))
  num_chunks = _process_all(
      items, work, raw_dir, settings, workers=workers,
      chunk_size=chunk_size, progress=progress, desc=f'prep {dataset}')

  # Pass 1: labels and rejections (no pixels kept).
  used_index, rejections, multiple_faces = _sort_results(
      items, [dict(r, png=True) if 'png' in r else r
              for r in _load_chunks(work, num_chunks)])
  rejections = listing.rejections + rejections
  used = [dict(path=items[i].path, expression=items[i].expression,
               subject=items[i].subject, split=items[i].split)
          for i in used_index if not items[i].stage1_only]
  subjects = sorted({u['subject'] for u in used})
  stage1_used = [i for i in used_index
                 if items[i].stage1_only and items[i].subject in subjects]
  if listing.fixed_split:
    fold_of_subject = {u['subject']: 0 if u['split'] == 'test' else -1
                       for u in used}
  elif len(subjects) >= num_folds:
    fold_of_subject = folds_lib.assign_folds(subjects, num_folds, seed)
  else:
    fold_of_subject = {s: -1 for s in subjects}  # Only for the report.
  report = prep_report.build_report(
      dataset=dataset, raw_dir=raw_dir, out_dir=out_dir, settings=settings,
      listing=listing, used=used, rejections=rejections,
      fold_of_subject=fold_of_subject, multiple_faces=multiple_faces)
  report['stage1_only'] = _stage1_report(items, used_index, stage1_used,
                                         len(listing.stage1_only))
  if not used or (not listing.fixed_split and len(subjects) < num_folds):
    report_path = os.path.join(out_dir, records.REPORT)
    _atomic_write(report_path, json.dumps(report, indent=1).encode())
    reasons = ', '.join(f'{k}: {v}' for k, v in
                        report['rejected_by_reason'].items())
    raise PrepError(
        f'{len(used)} usable images of {len(subjects)} subjects in {raw_dir} '
        f'are too few for {num_folds} folds'
        f'{f" (rejected: {reasons})" if reasons else ""}; see {report_path}')

  # Pass 2: stream the faces into the writer.
  keep = {i for i in used_index if not items[i].stage1_only} | set(stage1_used)
  identity_of = ({s: n for n, s in enumerate(subjects)}
                 if listing.has_identities else {})

  def examples():
    for r in _load_chunks(work, num_chunks):
      if r['index'] not in keep:
        continue
      it = items[r['index']]
      ex = dict(png=r['png'], expression=it.expression,
                identity=identity_of.get(it.subject, -1), subject=it.subject,
                source_path=it.path, transform=r['transform'],
                stage1_only=it.stage1_only)
      if it.intensity is not None:
        ex['intensity'] = it.intensity
      yield ex

  # Before the manifest (written last): a complete folder always has it.
  _atomic_write(os.path.join(out_dir, INVENTORY), json.dumps(
      dict(raw_dir=raw_dir, files=inventory)).encode())
  manifest = records.write_prepared_dataset(
      out_dir, examples(), name=dataset, expression_classes=listing.classes,
      num_folds=num_folds, fold_of_subject=fold_of_subject,
      prep_settings=settings, stored_size=stored_size,
      records_per_shard=records_per_shard, report=report)
  shutil.rmtree(work)
  summary = prep_report.summary_line(report)
  if stage1_used:
    summary += (f'; {len(stage1_used)} stage-1-only neutral frames (x_t only, '
                'in no class or fold count)')
  print(summary)
  return manifest


def _stage1_report(items: Sequence[base.Item], used_index: Sequence[int],
                   stage1_used: Sequence[int], listed: int) -> dict[str, Any]:
  """prep_report.json's 'stage1_only' block: the stage-1-only records apart
  from the protocol's counts (their rejections are in 'rejected')."""
  per_subject: dict[str, int] = {}
  for i in stage1_used:
    per_subject[items[i].subject] = per_subject.get(items[i].subject, 0) + 1
  usable = sum(items[i].stage1_only for i in used_index)
  return dict(
      what='first (neutral) frame of each used sequence, expression -1: stage '
           '1 may use it as x_t only; it is in no class, fold or test set and '
           'not in the counts above',
      listed=listed, used=len(stage1_used),
      subject_without_protocol_images=usable - len(stage1_used),
      per_subject=dict(sorted(per_subject.items())))


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


def _previous_manifest(out_dir: str, settings: dict[str, Any],
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
        f'({_settings_diff(previous.get("prep") or {}, settings)}); pass '
        '--overwrite to replace it')
  os.remove(manifest_path)  # From here on the folder is incomplete.
  return None


def _settings_diff(old: dict[str, Any], new: dict[str, Any]) -> str:
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


def _open_work_dir(out_dir: str, state: dict[str, Any]) -> str:
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
  _atomic_write(state_path, json.dumps(state).encode())
  return work


def _sort_results(items: Sequence[base.Item], meta: Sequence[dict[str, Any]]
                 ) -> tuple[list[int], list[base.Rejection], list[str]]:
  """(indices of the images to write, rejections, paths with several faces).

  Duplicates among the protocol's images are resolved by label
  (`_resolve_duplicates`); a stage-1-only image (they come last) whose bytes
  repeat an image already kept is a 'duplicate'.
  """
  dropped = _resolve_duplicates(
      items, [r for r in meta if not items[r['index']].stage1_only])
  used, rejections, multiple_faces = [], [], []
  kept: dict[str, str] = {}  # sha1 -> path of the image kept.
  for r in meta:
    i = r['index']
    note = ' (stage-1-only neutral frame)' if items[i].stage1_only else ''
    if 'png' not in r:
      rejections.append(base.Rejection(items[i].path, r['reason'],
                                       r['detail'] + note))
    elif i in dropped:
      rejections.append(dropped[i])
    elif items[i].stage1_only and r['sha1'] in kept:
      rejections.append(base.Rejection(
          items[i].path, base.DUPLICATE,
          f'same image content as {kept[r["sha1"]]}{note}'))
    else:
      used.append(i)
      kept.setdefault(r['sha1'], items[i].path)
      if r.get('num_faces', 1) > 1:
        multiple_faces.append(items[i].path)
  return used, rejections, multiple_faces


# ------------------------------------------------------------------------------
# Command line.
# ------------------------------------------------------------------------------


def _floats(text: str) -> tuple[float, ...]:
  return tuple(float(v) for v in text.split(','))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
  p = cli.ArgumentParser(
      prog='python -m data_prep.prepare',
      description=__doc__.split('\n\n')[0].strip(),
      formatter_class=argparse.RawDescriptionHelpFormatter)
  p.add_argument('--dataset', required=True, choices=sorted(readers.READERS))
  p.add_argument('--raw_dir', required=True,
                 help='raw dataset folder (only read)')
  p.add_argument('--out_dir', required=True, help='prepared-data folder')
  p.add_argument('--workers', type=int, default=2,
                 help='worker processes for decoding and detection')
  p.add_argument('--align', dest='align', action='store_true', default=None,
                 help='detect and align faces (default except image_folder)')
  p.add_argument('--no_align', dest='align', action='store_false',
                 help='data is already aligned: centre square crop + resize')
  p.add_argument('--num_folds', type=int, default=None,
                 help='subject-independent folds (default 10; SFEW: 1 = Val)')
  p.add_argument('--seed', type=int, default=0, help='fold assignment seed')
  p.add_argument('--stored_size', type=int, default=112,
                 help='side of the stored square faces')
  p.add_argument('--landmarks', type=int, default=68, choices=(68, 5),
                 help='dlib landmark model')
  p.add_argument('--eye_template', type=_floats,
                 default=align_lib.DEFAULT_EYE_TEMPLATE,
                 help='left-eye centre x,y as fractions of the crop '
                 '(right eye mirrored)')
  p.add_argument('--detect_max_side', type=int, default=640,
                 help='detect faces on a copy downscaled to this longer side')
  p.add_argument('--frames_per_sequence', type=int, default=3,
                 help='CK+ / Oulu-CASIA: last N frames of each sequence')
  p.add_argument('--no_neutral_first_frames', dest='neutral_first_frames',
                 action='store_false',
                 help='CK+ / Oulu-CASIA: do not keep each sequence\'s first '
                 '(neutral) frame as a stage-1-only x_t record')
  p.add_argument('--frame_stride', type=int, default=1,
                 help='BU-4DFE: use every k-th frame')
  p.add_argument('--include_neutral', action='store_true',
                 help='BU-3DFE: add the neutral image as a 7th class')
  p.add_argument('--subject_regex', default=None,
                 help="image_folder: regex searched in each file name (see "
                 "--subject_regex_on); group 'subject' (or group 1, else the "
                 "whole match) is the subject id")
  p.add_argument('--subject_regex_on', default='name',
                 choices=('name', 'path'),
                 help='image_folder: search --subject_regex in the file name '
                 '(default) or in the path relative to --raw_dir (e.g. '
                 "'^(S\\d+)/' for one folder per subject)")
  p.add_argument('--classes', default=None,
                 help='image_folder: comma-separated class folders, in label '
                 'order (default: sorted sub-folders)')
  p.add_argument('--records_per_shard', type=int, default=1000)
  p.add_argument('--overwrite', action='store_true',
                 help='replace a prepared folder made with other settings or '
                 'from an earlier state of the raw tree')
  p.add_argument('--no_progress', action='store_true', help='no progress bar')
  return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
  """The command; a user error is one line `data_prep.prepare: error: ...`
  on stderr and status 2 (command line) or 1 (inputs, out_dir)."""
  return cli.run(PROG, lambda: _main(argv),
                 user_errors=(PrepError, OutDirError, base.ReaderError,
                              FileNotFoundError, NotADirectoryError))


def _main(argv: Sequence[str] | None) -> None:
  args = parse_args(argv)
  if args.subject_regex is not None:
    try:
      re.compile(args.subject_regex)
    except re.error as e:
      raise cli.UsageError(f"--subject_regex='{args.subject_regex}' is not "
                           f'a regular expression: {e}') from e
  options = base.ReaderOptions(
      frames_per_sequence=args.frames_per_sequence,
      neutral_first_frames=args.neutral_first_frames,
      frame_stride=args.frame_stride, include_neutral=args.include_neutral,
      subject_regex=args.subject_regex,
      subject_regex_on=args.subject_regex_on,
      classes=tuple(args.classes.split(',')) if args.classes else None)
  prepare(args.dataset, args.raw_dir, args.out_dir, workers=args.workers,
          align=args.align, num_folds=args.num_folds, seed=args.seed,
          stored_size=args.stored_size, landmarks=args.landmarks,
          eye_template=args.eye_template,
          detect_max_side=args.detect_max_side, options=options,
          records_per_shard=args.records_per_shard, overwrite=args.overwrite,
          progress=not args.no_progress)


if __name__ == '__main__':
  sys.exit(main())
