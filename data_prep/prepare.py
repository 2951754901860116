r"""Prepares a raw face dataset as aligned, labelled, fold-assigned TFRecords.

  python -m data_prep.prepare --dataset=ckplus --raw_dir=/data/CK+ \
      --out_dir=data/ckplus --workers=4

Datasets: ckplus, oulu_casia, bu3dfe, bu4dfe, sfew, image_folder (layouts and
protocols in DESIGN.md §5-§6 and the `data_prep.readers` modules). Each image
is read in a worker process (`data_prep.prep_worker`), converted to RGB
(grayscale replicated to 3 channels), its face detected and warped so the eyes sit on fixed positions of a stored_size crop
(`relgan_jax.data.align`; `--no_align` only resizes, for pre-aligned data, and is the
default for image_folder), and written through
`relgan_jax.data.records_writer.write_prepared_dataset` with subject-independent folds from
`relgan_jax.data.folds.assign_folds` (SFEW: Val = fold 0, Train = fold -1).

Restartable: processed images are kept in OUT/.prep_work/ in chunks that only
count once renamed into place, so an interrupted run resumes where it stopped
(with the same settings; different settings start over). The manifest is
written last, so a folder without manifest.json is never taken as complete. A
complete folder with the same settings, made from the raw tree as it is now
(OUT/raw_inventory.json: size and mtime of every raw file), is left as it is;
different settings, or new, removed or modified raw files, need --overwrite
(the refusal names them; data_prep/prep_state.py keeps all this state). The raw tree is only read. Bad input is one line
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

import json
import os
import re
import shutil
import sys
from typing import Any, Sequence

from absl import flags

from data_prep import prep_report
from data_prep import prep_state
from data_prep import readers
from data_prep.readers import base
from relgan_jax import cli
from relgan_jax.data import align as align_lib
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import records
from relgan_jax.data import records_writer

_NO_ALIGN_BY_DEFAULT = frozenset({'image_folder'})
PROG = 'data_prep.prepare'


class PrepError(ValueError):
  """Arguments or inputs that cannot be prepared (the message says why)."""


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
      (`relgan_jax.data.align`).
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
    raise prep_state.OutDirError(f'out_dir {out_dir} is a file, not a folder')
  if align:  # Fail early (and in this process) if the backend is missing.
    if backend not in align_lib.BACKENDS:
      raise PrepError(f'unknown alignment backend {backend!r}; known: '
                       f'{sorted(align_lib.BACKENDS)}')
    try:
      align_lib.template_eyes(stored_size, eye_template)
      align_lib.landmark_model_path(landmarks)
    except ValueError as e:
      raise PrepError(str(e)) from e

  inventory = prep_state.raw_inventory(raw_dir)  # Before any image is read.
  previous = prep_state.previous_manifest(out_dir, settings, overwrite, inventory)
  if previous is not None:
    return previous
  # The protocol's images, then the stage-1-only ones (x_t only).
  items = listing.items + (listing.stage1_only if listing.has_identities
                           else [])
  work = prep_state.open_work_dir(out_dir, dict(
      fingerprint=prep_state.work_fingerprint(settings, items, inventory),
      chunk_size=chunk_size))
  num_chunks = prep_state.process_all(
      items, work, raw_dir, settings, workers=workers,
      chunk_size=chunk_size, progress=progress, desc=f'prep {dataset}')

  # Pass 1: labels and rejections (no pixels kept).
  used_index, rejections, multiple_faces = _sort_results(
      items, [dict(r, png=True) if 'png' in r else r
              for r in prep_state.load_chunks(work, num_chunks)])
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
    prep_state.atomic_write(report_path, json.dumps(report, indent=1).encode())
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
    for r in prep_state.load_chunks(work, num_chunks):
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
  prep_state.atomic_write(os.path.join(out_dir, prep_state.INVENTORY), json.dumps(
      dict(raw_dir=raw_dir, files=inventory)).encode())
  manifest = records_writer.write_prepared_dataset(
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


# The command's flags (absl, as main's; its own FlagValues: see cli.parse_flags).
FLAGS = flags.FlagValues()
_define = dict(flag_values=FLAGS)
flags.DEFINE_enum('dataset', None, sorted(readers.READERS), 'The dataset.',
                  **_define)
flags.DEFINE_string('raw_dir', None, 'Raw dataset folder (only read).',
                    **_define)
flags.DEFINE_string('out_dir', None, 'Prepared-data folder.', **_define)
flags.DEFINE_integer('workers', 2, 'Worker processes for decoding and '
                     'detection.', **_define)
flags.DEFINE_boolean('align', None, 'Detect and align faces (default: yes, '
                     'except image_folder).', **_define)
flags.DEFINE_boolean('no_align', False, 'The data is already aligned: centre '
                     'square crop + resize (= --noalign).', **_define)
flags.DEFINE_integer('num_folds', None, 'Subject-independent folds (default '
                     '10; SFEW: 1 = Val).', **_define)
flags.DEFINE_integer('seed', 0, 'Fold assignment seed.', **_define)
flags.DEFINE_integer('stored_size', 112, 'Side of the stored square faces.',
                     **_define)
flags.DEFINE_enum('landmarks', '68', ['68', '5'], 'dlib landmark model.',
                  **_define)
flags.DEFINE_list('eye_template',
                  [str(v) for v in align_lib.DEFAULT_EYE_TEMPLATE],
                  'Left-eye centre x,y as fractions of the crop (right eye '
                  'mirrored).', **_define)
flags.DEFINE_integer('detect_max_side', 640, 'Detect faces on a copy '
                     'downscaled to this longer side.', **_define)
flags.DEFINE_integer('frames_per_sequence', 3, 'CK+ / Oulu-CASIA: last N '
                     'frames of each sequence.', **_define)
flags.DEFINE_boolean('no_neutral_first_frames', False, "CK+ / Oulu-CASIA: do "
                     "not keep each sequence's first (neutral) frame as a "
                     'stage-1-only x_t record.', **_define)
flags.DEFINE_integer('frame_stride', 1, 'BU-4DFE: use every k-th frame.',
                     **_define)
flags.DEFINE_boolean('include_neutral', False, 'BU-3DFE: add the neutral '
                     'image as a 7th class.', **_define)
flags.DEFINE_string('subject_regex', None, 'image_folder: regex searched in '
                    "each file name (see --subject_regex_on); group 'subject' "
                    '(or group 1, else the whole match) is the subject id.',
                    **_define)
flags.DEFINE_enum('subject_regex_on', 'name', ['name', 'path'],
                  'image_folder: search --subject_regex in the file name or '
                  "in the path relative to --raw_dir (e.g. '^(S\\d+)/' for "
                  'one folder per subject).', **_define)
flags.DEFINE_list('classes', None, 'image_folder: class folders, in label '
                  'order (default: sorted sub-folders).', **_define)
flags.DEFINE_integer('records_per_shard', 1000, 'Records per shard file.',
                     **_define)
flags.DEFINE_boolean('overwrite', False, 'Replace a prepared folder made with '
                     'other settings or from an earlier state of the raw '
                     'tree.', **_define)
flags.DEFINE_boolean('no_progress', False, 'No progress bar.', **_define)


def _eye_template(values: Sequence[str]) -> tuple[float, float]:
  try:
    template = tuple(float(v) for v in values)
  except ValueError:
    template = ()
  if len(template) != 2:
    raise cli.UsageError(f'--eye_template={",".join(values)}: give x,y '
                         '(fractions of the crop), e.g. 0.35,0.4.')
  return template


def main(argv: Sequence[str] | None = None) -> int:
  """The command; a user error is one line `data_prep.prepare: error: ...`
  on stderr and status 2 (command line) or 1 (inputs, out_dir)."""
  return cli.run(PROG, lambda: _main(argv),
                 user_errors=(PrepError, prep_state.OutDirError, base.ReaderError,
                              FileNotFoundError, NotADirectoryError,
                              align_lib.MissingExtraError))


def _main(argv: Sequence[str] | None) -> None:
  cli.parse_flags(PROG, FLAGS, argv,
                  required=['dataset', 'raw_dir', 'out_dir'])
  args = FLAGS
  if args.subject_regex is not None:
    try:
      re.compile(args.subject_regex)
    except re.error as e:
      raise cli.UsageError(f"--subject_regex='{args.subject_regex}' is not "
                           f'a regular expression: {e}') from e
  options = base.ReaderOptions(
      frames_per_sequence=args.frames_per_sequence,
      neutral_first_frames=not args.no_neutral_first_frames,
      frame_stride=args.frame_stride, include_neutral=args.include_neutral,
      subject_regex=args.subject_regex,
      subject_regex_on=args.subject_regex_on,
      classes=tuple(args.classes) if args.classes else None)
  prepare(args.dataset, args.raw_dir, args.out_dir, workers=args.workers,
          align=False if args.no_align else args.align,
          num_folds=args.num_folds, seed=args.seed,
          stored_size=args.stored_size, landmarks=int(args.landmarks),
          eye_template=_eye_template(args.eye_template),
          detect_max_side=args.detect_max_side, options=options,
          records_per_shard=args.records_per_shard, overwrite=args.overwrite,
          progress=not args.no_progress)


if __name__ == '__main__':
  sys.exit(main())
