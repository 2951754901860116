"""Writing a prepared folder: TFRecord shards, their indexes, the manifest.

Every producer (the synthetic face set, the real-dataset preparers) writes
through `write_prepared_dataset` (re-exported as
`records.write_prepared_dataset`); the format, the `Example` encoding and the
reader are in `records.py` (DESIGN.md §8).

Stage-1-only records (`stage1_only=True`, e.g. each CK+ / Oulu-CASIA
sequence's first, neutral frame) carry expression -1: they belong to no
protocol class, and the manifest's class and fold counts leave them out
(`counts.stage1_only` counts them). They need a known identity, the same as
their subject's protocol records, and their subject must have protocol
records (folds are assigned over those subjects only).
"""

import json
import os
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from relgan_jax.data import folds as folds_lib
from relgan_jax.data import records
from relgan_jax.data.tfrecord import frame_record


class _ShardWriter:
  """Writes one shard and its index under temporary names, renames on close."""

  _LABELS = ('expression', 'identity', 'intensity', 'subject', 'stage1_only')

  def __init__(self, out_dir: str, shard: int):
    self.file = records.SHARD_PATTERN.format(shard)
    self.index_file = self.file + records.INDEX_SUFFIX
    self._path = os.path.join(out_dir, self.file)
    self._index_path = os.path.join(out_dir, self.index_file)
    self._f = open(self._path + '.tmp', 'wb')
    self._offsets = [0]
    self._labels = {k: [] for k in self._LABELS}

  def __len__(self):
    return len(self._offsets) - 1

  def add(self, payload: bytes, **labels):
    record = frame_record(payload)
    self._f.write(record)
    self._offsets.append(self._offsets[-1] + len(record))
    for k in self._LABELS:
      self._labels[k].append(labels[k])

  def close(self) -> dict[str, Any]:
    self._f.close()
    # np.savez appends '.npz' unless the name already ends with it.
    tmp_index = self._index_path[:-len('.npz')] + '.tmp.npz'
    np.savez(
        tmp_index,
        offsets=np.asarray(self._offsets, np.uint64),
        expression=np.asarray(self._labels['expression'], np.int32),
        identity=np.asarray(self._labels['identity'], np.int32),
        intensity=np.asarray(self._labels['intensity'], np.int32),
        subject=np.asarray(self._labels['subject'], dtype=str),
        stage1_only=np.asarray(self._labels['stage1_only'], np.int8),
    )
    os.replace(self._path + '.tmp', self._path)
    os.replace(tmp_index, self._index_path)
    return dict(file=self.file, num_records=len(self), index_file=self.index_file,
                bytes=self._offsets[-1])


def _remove_previous(out_dir: str):
  """Removes the manifest first (marking the folder incomplete), then the
  previous producer's report and the shards."""
  for name in (records.MANIFEST, records.REPORT):
    path = os.path.join(out_dir, name)
    if os.path.exists(path):
      os.remove(path)
  for name in os.listdir(out_dir):
    if name.startswith('records-') and (name.endswith('.tfrecord')
                                        or name.endswith('.npz')
                                        or name.endswith('.tmp')):
      os.remove(os.path.join(out_dir, name))


def _check_labels(ex: Mapping[str, Any], where: str, classes: Sequence[str]
                  ) -> tuple[int, int, str, bool]:
  """(expression, identity, subject, stage1_only) of one example, checked."""
  expression = int(ex['expression'])
  identity = int(ex['identity'])
  subject = str(ex['subject'])
  stage1_only = bool(ex.get('stage1_only', False))
  if stage1_only:
    if expression != -1:
      raise ValueError(f'{where}: a stage-1-only record has expression -1 (no '
                       f'protocol class), got {expression}.')
    if identity < 0:
      raise ValueError(f'{where}: a stage-1-only record needs a known '
                       f'identity (it is only ever x_t of its person), got '
                       f'{identity}.')
  elif not 0 <= expression < len(classes):
    raise ValueError(
        f'{where}: expression label {expression} is outside the manifest '
        f'classes 0..{len(classes) - 1} {list(classes)}.')
  if not subject:
    raise ValueError(f'{where}: empty subject id.')
  if identity < -1:
    raise ValueError(f'{where}: identity {identity} < -1.')
  return expression, identity, subject, stage1_only


def write_prepared_dataset(
    out_dir: str,
    examples: Iterable[Mapping[str, Any]],
    *,
    name: str,
    expression_classes: Sequence[str],
    num_folds: int,
    fold_of_subject: Mapping[str, int] | None = None,
    prep_settings: Mapping[str, Any] | None = None,
    stored_size: int | Sequence[int],
    records_per_shard: int = 1000,
    report: Any = None,
) -> dict[str, Any]:
  """Writes a prepared dataset (shards, indexes, manifest) and returns the manifest.

  Args:
    out_dir: destination folder (created; a previous dataset there is replaced).
    examples: dicts with 'image' (uint8 HxWx3) or 'png' (encoded bytes),
      'expression' (int in [0, len(expression_classes))), 'identity' (int,
      -1 = unknown; known labels must be 0..K-1, one subject each), 'subject'
      (str), 'source_path' (str), 'transform' (6 floats, 2x3 raw->aligned
      affine, row major) and optionally 'intensity' (int) and 'stage1_only'
      (bool: an x_t-only record, expression -1, see the module docstring).
    name: dataset name stored in the manifest.
    expression_classes: class names; index = expression label.
    num_folds: number of subject-independent folds.
    fold_of_subject: fixed {subject: fold} (fold -1 = always train); by default
      `folds.assign_folds(subjects of the protocol records, num_folds)`.
    prep_settings: JSON-serialisable settings of the producer (kept as 'prep').
    stored_size: side of the stored faces (int) or (height, width).
    records_per_shard: records per TFRecord shard.
    report: optional JSON-serialisable producer report (e.g. unusable inputs);
      written to prep_report.json.

  Returns:
    The manifest dict (also written to out_dir/manifest.json).

  Raises:
    ValueError: an example with a bad label, image or field (names its
      source_path), inconsistent identities or folds.
  """
  if records_per_shard <= 0:
    raise ValueError(f'records_per_shard must be positive, got {records_per_shard}.')
  if num_folds <= 0:
    raise ValueError(f'num_folds must be positive, got {num_folds}.')
  classes = list(expression_classes)
  if not classes:
    raise ValueError('expression_classes is empty.')
  os.makedirs(out_dir, exist_ok=True)
  _remove_previous(out_dir)

  shards: list[dict[str, Any]] = []
  writer = None
  subject_of_identity: dict[int, str] = {}
  identity_of_subject: dict[str, int] = {}  # Of the protocol records.
  stage1_identity: dict[str, tuple[int, str]] = {}  # subject -> (id, where).
  subjects_seen: set[str] = set()  # Of the protocol records.
  expression_counts = [0] * len(classes)
  num_records = num_stage1_only = 0
  for n, ex in enumerate(examples):
    where = f'example {n} ({ex.get("source_path", "?")})'
    expression, identity, subject, stage1_only = _check_labels(
        ex, where, classes)
    if identity >= 0:
      prev = subject_of_identity.setdefault(identity, subject)
      if prev != subject:
        raise ValueError(f'{where}: identity {identity} is used for subjects '
                         f'{prev!r} and {subject!r}.')
    transform = [float(t) for t in ex['transform']]
    if len(transform) != 6:
      raise ValueError(f'{where}: transform has {len(transform)} values, need 6.')
    if 'png' in ex:
      png = bytes(ex['png'])
      height, width = records.png_size(png)
    else:
      try:
        png = records.encode_png(ex['image'])
      except ValueError as e:
        raise ValueError(f'{where}: {e}') from e
      height, width = np.asarray(ex['image']).shape[:2]
    intensity = ex.get('intensity')
    payload = records.make_example(
        png=png, height=height, width=width, expression=expression,
        identity=identity, subject=subject, source_path=str(ex['source_path']),
        transform=transform, intensity=intensity, stage1_only=stage1_only)
    if writer is None:
      writer = _ShardWriter(out_dir, len(shards))
    writer.add(payload, expression=expression, identity=identity,
               intensity=-1 if intensity is None else int(intensity),
               subject=subject, stage1_only=int(stage1_only))
    if len(writer) >= records_per_shard:
      shards.append(writer.close())
      writer = None
    if stage1_only:
      stage1_identity.setdefault(subject, (identity, where))
      num_stage1_only += 1
    else:
      subjects_seen.add(subject)
      identity_of_subject.setdefault(subject, identity)
      expression_counts[expression] += 1
    num_records += 1
  if writer is not None:
    shards.append(writer.close())
  if num_records == num_stage1_only:
    raise ValueError(f'no examples to write to {out_dir}'
                     + (' (only stage-1-only ones).' if num_records else '.'))
  for subject, (identity, where) in stage1_identity.items():
    if subject not in subjects_seen:
      raise ValueError(f'{where}: stage-1-only record of subject {subject!r}, '
                       'who has no protocol record (it could never be x_t).')
    if identity != identity_of_subject[subject]:
      raise ValueError(f'{where}: stage-1-only record of subject {subject!r} '
                       f'has identity {identity}, its protocol records '
                       f'{identity_of_subject[subject]}.')

  known = sorted(subject_of_identity)
  if known and known != list(range(len(known))):
    raise ValueError(f'identity labels must be 0..K-1; got {known[:10]}...')
  identities = [subject_of_identity[i] for i in known]

  if fold_of_subject is None:
    fold_of_subject = folds_lib.assign_folds(subjects_seen, num_folds)
  else:
    fold_of_subject = {str(k): int(v) for k, v in fold_of_subject.items()}
    missing = sorted(subjects_seen - set(fold_of_subject))
    if missing:
      raise ValueError(f'fold_of_subject lacks subjects {missing[:10]}.')
    bad = {s: f for s, f in fold_of_subject.items()
           if not -1 <= f < num_folds}
    if bad:
      raise ValueError(f'folds outside -1..{num_folds - 1}: {bad}.')
    fold_of_subject = {s: fold_of_subject[s] for s in sorted(subjects_seen)}

  fold_counts: dict[str, int] = {}  # Protocol records only.
  for shard in shards:
    with np.load(os.path.join(out_dir, shard['index_file'])) as index:
      subjects, only = index['subject'], index['stage1_only']
    for s in subjects[only == 0]:
      key = str(fold_of_subject[str(s)])
      fold_counts[key] = fold_counts.get(key, 0) + 1
  if report is not None:
    with open(os.path.join(out_dir, records.REPORT), 'w') as f:
      json.dump(report, f, indent=1)
  if isinstance(stored_size, int):
    stored_size = [stored_size, stored_size]
  manifest = dict(
      format_version=records.FORMAT_VERSION,
      name=name,
      expression_classes=classes,
      identities=identities,
      num_records=num_records,
      num_folds=int(num_folds),
      folds=fold_of_subject,
      shards=shards,
      counts=dict(
          expression=dict(zip(classes, expression_counts)),
          fold=dict(sorted(fold_counts.items(), key=lambda kv: int(kv[0]))),
          subjects=len(subjects_seen),
          identities=len(identities),
          stage1_only=num_stage1_only,
      ),
      prep=dict(prep_settings or {}),
      stored_size=[int(s) for s in stored_size],
      report=records.REPORT if report is not None else None,
  )
  tmp = os.path.join(out_dir, records.MANIFEST + '.tmp')
  with open(tmp, 'w') as f:
    json.dump(manifest, f, indent=1)
  os.replace(tmp, os.path.join(out_dir, records.MANIFEST))
  return manifest
