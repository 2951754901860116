"""Prepared-data format: TFRecord shards of `tf.train.Example`, a manifest, an index.

Every producer (the synthetic face set, the real-dataset preparers) writes through
`write_prepared_dataset`, and every consumer reads through `PreparedDataset`
(DESIGN.md §8). Neither needs TensorFlow: the TFRecord framing is written here
and the `Example` proto comes from `tensorflow_datasets.proto`.

A prepared folder holds:

* `records-00000.tfrecord`, ...: standard TFRecord files. Each record is
  `uint64 length | uint32 masked_crc32c(length) | payload | uint32
  masked_crc32c(payload)` (little endian), the payload a serialised
  `tf.train.Example` with the features listed in `FEATURES`.
* `records-00000.index.npz`, ...: one per shard, the byte offset of every record
  (plus the file size as a last entry, so record i spans offsets[i]..offsets[i+1])
  and the record labels, so that grain can read any record at random and the
  label arrays are known without decoding a single image.
* `manifest.json`, written last: its presence means the folder is complete.

Reads check both CRCs, the record length against the index and the record labels
against the index; every error names the file (and the record).
"""

import io
import json
import os
import threading
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
from PIL import Image
from tensorflow_datasets.proto import tf_example_pb2

from relgan_jax import folds as folds_lib
# Re-exported: the framing lives in tfrecord.py, the errors are shared.
from relgan_jax.tfrecord import DataError  # noqa: F401
from relgan_jax.tfrecord import frame_record  # noqa: F401
from relgan_jax.tfrecord import read_records  # noqa: F401
from relgan_jax.tfrecord import unframe_record

FORMAT_VERSION = 1
MANIFEST = 'manifest.json'
REPORT = 'prep_report.json'
SHARD_PATTERN = 'records-{:05d}.tfrecord'
INDEX_SUFFIX = '.index.npz'

# Feature key -> kind. 'label/intensity' is optional.
FEATURES = {
    'image/encoded': 'bytes',
    'image/height': 'int64',
    'image/width': 'int64',
    'label/expression': 'int64',
    'label/identity': 'int64',
    'label/intensity': 'int64',
    'subject': 'bytes',
    'source_path': 'bytes',
    'align/transform': 'float',
}

# ------------------------------------------------------------------------------
# tf.train.Example encoding.
# ------------------------------------------------------------------------------


def encode_png(image: np.ndarray) -> bytes:
  """PNG-encodes a uint8 HxWx3 (or HxW grey, replicated to RGB) image."""
  image = np.asarray(image)
  if image.dtype != np.uint8:
    raise ValueError(f'image must be uint8, got {image.dtype}.')
  if image.ndim == 2:
    image = np.repeat(image[..., None], 3, axis=-1)
  if image.ndim != 3 or image.shape[-1] != 3:
    raise ValueError(f'image must be HxWx3, got shape {image.shape}.')
  buf = io.BytesIO()
  Image.fromarray(image, 'RGB').save(buf, format='PNG', compress_level=1)
  return buf.getvalue()


def decode_png(data: bytes) -> np.ndarray:
  """Decodes an encoded image to uint8 HxWx3."""
  with Image.open(io.BytesIO(data)) as im:
    im.load()
    return np.asarray(im if im.mode == 'RGB' else im.convert('RGB'))


def png_size(data: bytes) -> tuple[int, int]:
  """(height, width) of an encoded image without decoding its pixels."""
  with Image.open(io.BytesIO(data)) as im:
    return im.height, im.width


def make_example(*, png: bytes, height: int, width: int, expression: int,
                 identity: int, subject: str, source_path: str,
                 transform: Sequence[float],
                 intensity: int | None = None) -> bytes:
  """Serialises one record's `tf.train.Example`."""
  ex = tf_example_pb2.Example()
  feat = ex.features.feature
  feat['image/encoded'].bytes_list.value.append(png)
  feat['image/height'].int64_list.value.append(int(height))
  feat['image/width'].int64_list.value.append(int(width))
  feat['label/expression'].int64_list.value.append(int(expression))
  feat['label/identity'].int64_list.value.append(int(identity))
  if intensity is not None:
    feat['label/intensity'].int64_list.value.append(int(intensity))
  feat['subject'].bytes_list.value.append(subject.encode('utf-8'))
  feat['source_path'].bytes_list.value.append(source_path.encode('utf-8'))
  feat['align/transform'].float_list.value.extend(float(t) for t in transform)
  return ex.SerializeToString(deterministic=True)  # Sorted map keys.


def parse_example(payload: bytes, where: str = '<record>') -> dict[str, Any]:
  """Parses a serialised Example into a dict (image still encoded as 'png')."""
  ex = tf_example_pb2.Example()
  try:
    ex.ParseFromString(payload)
  except Exception as e:  # protobuf raises DecodeError; keep the file name.
    raise DataError(f'{where}: not a tf.train.Example ({e}).') from e
  feat = ex.features.feature
  missing = [k for k in FEATURES if k not in feat and k != 'label/intensity']
  if missing:
    raise DataError(f'{where}: Example lacks features {missing}.')

  def one(key, kind):
    values = getattr(feat[key], kind).value
    if len(values) != 1:
      raise DataError(f'{where}: feature {key!r} has {len(values)} values.')
    return values[0]

  transform = np.asarray(feat['align/transform'].float_list.value, np.float32)
  if transform.shape != (6,):
    raise DataError(f'{where}: align/transform has {transform.size} values, '
                    'expected 6.')
  return dict(
      png=one('image/encoded', 'bytes_list'),
      height=int(one('image/height', 'int64_list')),
      width=int(one('image/width', 'int64_list')),
      expression=int(one('label/expression', 'int64_list')),
      identity=int(one('label/identity', 'int64_list')),
      intensity=(int(one('label/intensity', 'int64_list'))
                 if 'label/intensity' in feat else -1),
      subject=one('subject', 'bytes_list').decode('utf-8'),
      source_path=one('source_path', 'bytes_list').decode('utf-8'),
      transform=transform,
  )


# ------------------------------------------------------------------------------
# Writing.
# ------------------------------------------------------------------------------


class _ShardWriter:
  """Writes one shard and its index under temporary names, renames on close."""

  def __init__(self, out_dir: str, shard: int):
    self.file = SHARD_PATTERN.format(shard)
    self.index_file = self.file + INDEX_SUFFIX
    self._path = os.path.join(out_dir, self.file)
    self._index_path = os.path.join(out_dir, self.index_file)
    self._f = open(self._path + '.tmp', 'wb')
    self._offsets = [0]
    self._labels = {'expression': [], 'identity': [], 'intensity': [],
                    'subject': []}

  def __len__(self):
    return len(self._offsets) - 1

  def add(self, payload: bytes, expression, identity, intensity, subject):
    record = frame_record(payload)
    self._f.write(record)
    self._offsets.append(self._offsets[-1] + len(record))
    for k, v in zip(('expression', 'identity', 'intensity', 'subject'),
                    (expression, identity, intensity, subject)):
      self._labels[k].append(v)

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
    )
    os.replace(self._path + '.tmp', self._path)
    os.replace(tmp_index, self._index_path)
    return dict(file=self.file, num_records=len(self), index_file=self.index_file,
                bytes=self._offsets[-1])


def _remove_previous(out_dir: str):
  """Removes the manifest first (marking the folder incomplete), then shards."""
  manifest = os.path.join(out_dir, MANIFEST)
  if os.path.exists(manifest):
    os.remove(manifest)
  for name in os.listdir(out_dir):
    if name.startswith('records-') and (name.endswith('.tfrecord')
                                        or name.endswith('.npz')
                                        or name.endswith('.tmp')):
      os.remove(os.path.join(out_dir, name))


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
      affine, row major) and optionally 'intensity' (int).
    name: dataset name stored in the manifest.
    expression_classes: class names; index = expression label.
    num_folds: number of subject-independent folds.
    fold_of_subject: fixed {subject: fold} (fold -1 = always train); by default
      `folds.assign_folds(subjects, num_folds)`.
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
  subjects_seen: set[str] = set()
  expression_counts = [0] * len(classes)
  num_records = 0
  for n, ex in enumerate(examples):
    where = f'example {n} ({ex.get("source_path", "?")})'
    expression = int(ex['expression'])
    if not 0 <= expression < len(classes):
      raise ValueError(
          f'{where}: expression label {expression} is outside the manifest '
          f'classes 0..{len(classes) - 1} {classes}.')
    identity = int(ex['identity'])
    subject = str(ex['subject'])
    if not subject:
      raise ValueError(f'{where}: empty subject id.')
    if identity < -1:
      raise ValueError(f'{where}: identity {identity} < -1.')
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
      height, width = png_size(png)
    else:
      try:
        png = encode_png(ex['image'])
      except ValueError as e:
        raise ValueError(f'{where}: {e}') from e
      height, width = np.asarray(ex['image']).shape[:2]
    intensity = ex.get('intensity')
    payload = make_example(
        png=png, height=height, width=width, expression=expression,
        identity=identity, subject=subject, source_path=str(ex['source_path']),
        transform=transform, intensity=intensity)
    if writer is None:
      writer = _ShardWriter(out_dir, len(shards))
    writer.add(payload, expression, identity,
               -1 if intensity is None else int(intensity), subject)
    if len(writer) >= records_per_shard:
      shards.append(writer.close())
      writer = None
    subjects_seen.add(subject)
    expression_counts[expression] += 1
    num_records += 1
  if writer is not None:
    shards.append(writer.close())
  if not num_records:
    raise ValueError(f'no examples to write to {out_dir}.')

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

  fold_counts: dict[str, int] = {}
  for shard in shards:
    index = np.load(os.path.join(out_dir, shard['index_file']))
    for s in index['subject']:
      key = str(fold_of_subject[str(s)])
      fold_counts[key] = fold_counts.get(key, 0) + 1
  if report is not None:
    with open(os.path.join(out_dir, REPORT), 'w') as f:
      json.dump(report, f, indent=1)
  if isinstance(stored_size, int):
    stored_size = [stored_size, stored_size]
  manifest = dict(
      format_version=FORMAT_VERSION,
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
      ),
      prep=dict(prep_settings or {}),
      stored_size=[int(s) for s in stored_size],
      report=REPORT if report is not None else None,
  )
  tmp = os.path.join(out_dir, MANIFEST + '.tmp')
  with open(tmp, 'w') as f:
    json.dump(manifest, f, indent=1)
  os.replace(tmp, os.path.join(out_dir, MANIFEST))
  return manifest


# ------------------------------------------------------------------------------
# Reading.
# ------------------------------------------------------------------------------


class PreparedDataset:
  """Random access to a prepared folder; label arrays without decoding images.

  Shard files are opened lazily on first read (per process) and read with
  `os.pread`, so one instance may be shared by threads and pickled to grain
  workers.

  Attributes:
    data_dir: the folder.
    manifest: the parsed manifest.json.
    expressions, identities, intensities, folds: int32 arrays, one per record
      (identity -1 = unknown, intensity -1 = absent, fold -1 = always train).
    subjects: str array, one per record.
  """

  def __init__(self, data_dir: str):
    self.data_dir = os.fspath(data_dir)
    path = os.path.join(self.data_dir, MANIFEST)
    if not os.path.exists(path):
      raise FileNotFoundError(
          f'{path} not found: {self.data_dir} is not a (complete) prepared '
          'dataset. Make one with `python -m data_prep.synthetic --out_dir=...` '
          'or `python -m data_prep.prepare ...`.')
    try:
      with open(path) as f:
        self.manifest = json.load(f)
    except json.JSONDecodeError as e:
      raise DataError(f'{path}: not valid JSON ({e}).') from e
    if self.manifest.get('format_version') != FORMAT_VERSION:
      raise DataError(f'{path}: format_version '
                      f'{self.manifest.get("format_version")}, expected '
                      f'{FORMAT_VERSION}.')
    self._load_indexes()
    self._fds: dict[int, int] = {}
    self._lock = threading.Lock()

  def _load_indexes(self):
    offsets, labels = [], {k: [] for k in ('expression', 'identity',
                                           'intensity', 'subject')}
    counts = []
    for shard in self.manifest['shards']:
      path = os.path.join(self.data_dir, shard['file'])
      index_path = os.path.join(self.data_dir, shard['index_file'])
      if not os.path.exists(path):
        raise DataError(f'{path}: shard listed in the manifest is missing.')
      if not os.path.exists(index_path):
        raise DataError(f'{index_path}: index listed in the manifest is missing.')
      size = os.path.getsize(path)
      if size != shard['bytes']:
        what = 'truncated' if size < shard['bytes'] else 'changed'
        raise DataError(
            f'{path}: shard is {what} ({size} bytes, the manifest and index say '
            f'{shard["bytes"]}); the index is out of date. Prepare the data '
            'again.')
      with np.load(index_path) as index:
        off = index['offsets'].astype(np.int64)
        shard_labels = {k: index[k] for k in labels}
      n = shard['num_records']
      if (off.shape != (n + 1,) or off[-1] != size
          or any(len(v) != n for v in shard_labels.values())):
        raise DataError(f'{index_path}: index does not match {path} '
                        f'({len(off) - 1} offsets, {n} records in the manifest, '
                        f'last offset {off[-1]} vs {size} bytes); out of date.')
      offsets.append(off)
      counts.append(n)
      for k in labels:
        labels[k].append(shard_labels[k])
    if sum(counts) != self.manifest['num_records']:
      raise DataError(f'{self.data_dir}/{MANIFEST}: num_records '
                      f'{self.manifest["num_records"]} != {sum(counts)} in shards.')
    self._offsets = offsets
    self._starts = np.cumsum([0] + counts)
    self.expressions = np.concatenate(labels['expression']).astype(np.int32)
    self.identities = np.concatenate(labels['identity']).astype(np.int32)
    self.intensities = np.concatenate(labels['intensity']).astype(np.int32)
    self.subjects = np.concatenate(labels['subject']).astype(str)
    num_classes = len(self.manifest['expression_classes'])
    bad = np.flatnonzero((self.expressions < 0)
                         | (self.expressions >= num_classes))
    if bad.size:
      raise DataError(f'{self.data_dir}/{MANIFEST}: record {bad[0]} has '
                      f'expression {self.expressions[bad[0]]}, outside the '
                      f'{num_classes} manifest classes.')
    fold_of = self.manifest['folds']
    try:
      self.folds = np.asarray([fold_of[s] for s in self.subjects], np.int32)
    except KeyError as e:
      raise DataError(f'{self.data_dir}/{MANIFEST}: no fold for subject {e}.') from e

  @property
  def expression_classes(self) -> list[str]:
    return list(self.manifest['expression_classes'])

  @property
  def num_folds(self) -> int:
    return int(self.manifest['num_folds'])

  def __len__(self) -> int:
    return int(self._starts[-1])

  def __getstate__(self):
    state = self.__dict__.copy()
    state['_fds'] = {}
    del state['_lock']
    return state

  def __setstate__(self, state):
    self.__dict__.update(state)
    self._lock = threading.Lock()

  def __del__(self):
    for fd in getattr(self, '_fds', {}).values():
      try:
        os.close(fd)
      except Exception:  # pylint: disable=broad-except
        pass  # Also at interpreter exit, when `os` may be gone.

  def _fd(self, shard: int) -> int:
    fd = self._fds.get(shard)
    if fd is None:
      with self._lock:
        fd = self._fds.get(shard)
        if fd is None:
          fd = os.open(self._shard_path(shard), os.O_RDONLY)
          self._fds[shard] = fd
    return fd

  def _shard_path(self, shard: int) -> str:
    return os.path.join(self.data_dir, self.manifest['shards'][shard]['file'])

  def _locate(self, i: int) -> tuple[int, int]:
    n = len(self)
    if not -n <= i < n:
      raise IndexError(f'record {i} out of range for {self.data_dir} ({n} records).')
    i %= n
    shard = int(np.searchsorted(self._starts, i, side='right') - 1)
    return shard, i - int(self._starts[shard])

  def record_bytes(self, i: int) -> bytes:
    """The serialised Example of record i (CRC-checked)."""
    shard, j = self._locate(int(i))
    start, end = int(self._offsets[shard][j]), int(self._offsets[shard][j + 1])
    buf = os.pread(self._fd(shard), end - start, start)
    path = self._shard_path(shard)
    if len(buf) != end - start:
      raise DataError(f'{path}, record {j}: truncated shard (read {len(buf)} of '
                      f'{end - start} bytes).')
    return unframe_record(buf, path, j)

  def raw(self, i: int) -> dict[str, Any]:
    """Record i with its image still encoded ('png' bytes)."""
    i = int(i)
    payload = self.record_bytes(i)
    shard, j = self._locate(i)
    where = f'{self._shard_path(shard)}, record {j}'
    ex = parse_example(payload, where)
    i %= len(self)
    if (ex['expression'] != self.expressions[i]
        or ex['identity'] != self.identities[i]
        or ex['subject'] != self.subjects[i]):
      raise DataError(f'{where}: labels differ from the index; the index is '
                      'out of date. Prepare the data again.')
    return ex

  def __getitem__(self, i: int) -> dict[str, Any]:
    """Record i: image (uint8 HxWx3), expression, identity, intensity, subject,
    source_path, transform (float32[6])."""
    ex = self.raw(i)
    png = ex.pop('png')
    try:
      ex['image'] = decode_png(png)
    except Exception as e:
      shard, j = self._locate(int(i))
      raise DataError(f'{self._shard_path(shard)}, record {j}: image does not '
                      f'decode ({e}).') from e
    del ex['height'], ex['width']
    return ex
