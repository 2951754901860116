"""Prepared-data format: TFRecord shards of `tf.train.Example`, a manifest, an index.

Every producer (the synthetic face set, the real-dataset preparers) writes through
`records_writer.write_prepared_dataset`, which imports this module (one way
only), and every consumer reads through `PreparedDataset` (DESIGN.md §8).
Neither needs TensorFlow: the TFRecord framing is in `tfrecord.py` and the
`Example` proto comes from `tensorflow_datasets.proto`.

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

Stage-1-only records (`label/stage1_only` = 1; e.g. each CK+ / Oulu-CASIA
sequence's first, neutral frame) have expression -1, in no protocol class: they
are only ever x_t in stage 1 (`pairs.py`), never a source, a ground truth, a
stage-2 or a test record (`folds.split_indices` and `loading.select_records`
leave them out). Folders written before the flag existed read as all 0.

Reads check both CRCs, the record length against the index and the record labels
against the index; every error names the file (and the record).
"""

import io
import json
import os
import threading
from typing import Any, Sequence

import numpy as np
from PIL import Image
from tensorflow_datasets.proto import tf_example_pb2

# Re-exported: the framing lives in tfrecord.py, the errors are shared.
from relgan_jax.data.tfrecord import DataError  # noqa: F401
from relgan_jax.data.tfrecord import frame_record  # noqa: F401
from relgan_jax.data.tfrecord import read_records  # noqa: F401
from relgan_jax.data.tfrecord import unframe_record

FORMAT_VERSION = 1
MANIFEST = 'manifest.json'
REPORT = 'prep_report.json'
SHARD_PATTERN = 'records-{:05d}.tfrecord'
INDEX_SUFFIX = '.index.npz'

# Feature key -> kind. 'label/intensity' and 'label/stage1_only' (absent = 0)
# are optional.
OPTIONAL_FEATURES = ('label/intensity', 'label/stage1_only')
FEATURES = {
    'image/encoded': 'bytes',
    'image/height': 'int64',
    'image/width': 'int64',
    'label/expression': 'int64',
    'label/identity': 'int64',
    'label/intensity': 'int64',
    'label/stage1_only': 'int64',
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
                 intensity: int | None = None,
                 stage1_only: bool = False) -> bytes:
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
  if stage1_only:  # Absent = 0: records of older folders are unchanged.
    feat['label/stage1_only'].int64_list.value.append(1)
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
  missing = [k for k in FEATURES if k not in feat
             and k not in OPTIONAL_FEATURES]
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
      stage1_only=(bool(one('label/stage1_only', 'int64_list'))
                   if 'label/stage1_only' in feat else False),
      subject=one('subject', 'bytes_list').decode('utf-8'),
      source_path=one('source_path', 'bytes_list').decode('utf-8'),
      transform=transform,
  )


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
      (identity -1 = unknown, intensity -1 = absent, fold -1 = always train,
      expression -1 = a stage-1-only record).
    stage1_only: bool array, one per record: x_t-only records (module
      docstring); all False for folders written before the flag existed.
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
    self._decoded: dict[int, dict[str, Any]] | None = None

  def decoded_bytes(self) -> int:
    """The memory all decoded faces take (uint8, stored_size x 3)."""
    height, width = self.manifest['stored_size']
    return len(self) * int(height) * int(width) * 3

  def keep_decoded(self, max_bytes: int) -> bool:
    """From now on, keeps each record decoded in memory once read, if all
    of them fit in `max_bytes` (decoded_bytes()); returns whether it does.

    Training reads every face many times (stage 1, the MLP's views, the
    baseline's epochs); a kept face is not read, CRC-checked, parsed and
    PNG-decoded again. Kept images are read-only arrays. Worker processes
    (grain's mp_prefetch) keep their own.
    """
    if max_bytes <= 0 or self.decoded_bytes() > max_bytes:
      self._decoded = None
      return False
    if self._decoded is None:
      self._decoded = {}
    return True

  def _load_indexes(self):
    offsets, labels = [], {k: [] for k in ('expression', 'identity',
                                           'intensity', 'subject',
                                           'stage1_only')}
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
        n = shard['num_records']
        missing = [k for k in labels if k not in index.files]
        if missing and missing != ['stage1_only']:  # Older: no flag = all 0.
          raise DataError(f'{index_path}: index lacks {missing}; out of date.')
        shard_labels = {k: index[k] if k in index.files
                        else np.zeros(n, np.int8) for k in labels}
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
    self.stage1_only = np.concatenate(labels['stage1_only']).astype(bool)
    num_classes = len(self.manifest['expression_classes'])
    bad = np.flatnonzero(np.where(
        self.stage1_only, self.expressions != -1,
        (self.expressions < 0) | (self.expressions >= num_classes)))
    if bad.size:
      what = ('a stage-1-only record needs -1' if self.stage1_only[bad[0]]
              else f'outside the {num_classes} manifest classes')
      raise DataError(f'{self.data_dir}/{MANIFEST}: record {bad[0]} has '
                      f'expression {self.expressions[bad[0]]}, {what}.')
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
    if state['_decoded'] is not None:  # A worker decodes its own.
      state['_decoded'] = {}
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
        or ex['subject'] != self.subjects[i]
        or ex['stage1_only'] != self.stage1_only[i]):
      raise DataError(f'{where}: labels differ from the index; the index is '
                      'out of date. Prepare the data again.')
    return ex

  def __getitem__(self, i: int) -> dict[str, Any]:
    """Record i: image (uint8 HxWx3), expression, identity, intensity,
    stage1_only, subject, source_path, transform (float32[6])."""
    decoded = self._decoded
    if decoded is None:
      return self._decode(i)
    n = len(self)
    kept = decoded.get(int(i) % n) if -n <= int(i) < n else None
    if kept is None:  # Not read yet (or out of range: _decode raises).
      kept = self._decode(i)
      kept['image'].setflags(write=False)
      kept['transform'].setflags(write=False)
      decoded[int(i) % n] = kept
    return dict(kept)

  def _decode(self, i: int) -> dict[str, Any]:
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
