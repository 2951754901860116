"""Tests for the prepared-data format (records.py) and fold assignment (folds.py)."""

import json
import os
import pickle
import shutil
import struct

import numpy as np
import pytest

from relgan_jax.data import folds
from relgan_jax.data import records
from relgan_jax.data import records_writer

CLASSES = ['neutral', 'happy', 'sad']


def _examples(n=23, seed=0):
  rng = np.random.default_rng(seed)
  out = []
  for k in range(n):
    identity = k % 5
    out.append(dict(
        image=rng.integers(0, 256, (12, 10, 3), dtype=np.uint8),
        expression=k % 3,
        identity=identity,
        subject=f'S{identity:03d}',
        source_path=f'raw/S{identity:03d}/{k}.png',
        transform=[1.0, 0.0, float(k), 0.0, 1.0, -float(k)],
        intensity=k % 4,
    ))
  return out


@pytest.fixture(scope='module')
def prepared(tmp_path_factory):
  out = str(tmp_path_factory.mktemp('prepared'))
  examples = _examples()
  manifest = records_writer.write_prepared_dataset(
      out, examples, name='fixture', expression_classes=CLASSES, num_folds=5,
      stored_size=12, records_per_shard=7, prep_settings={'align': False},
      report={'skipped': []})
  return out, examples, manifest


def _copy(prepared, tmp_path):
  out = str(tmp_path / 'copy')
  shutil.copytree(prepared[0], out)
  return out


def test_manifest_contents(prepared):
  out, examples, manifest = prepared
  with open(os.path.join(out, records.MANIFEST)) as f:
    assert json.load(f) == manifest
  assert manifest['num_records'] == 23
  assert [s['num_records'] for s in manifest['shards']] == [7, 7, 7, 2]
  assert manifest['identities'] == [f'S{i:03d}' for i in range(5)]
  assert manifest['expression_classes'] == CLASSES
  assert manifest['counts']['expression'] == {'neutral': 8, 'happy': 8, 'sad': 7}
  assert sum(manifest['counts']['fold'].values()) == 23
  assert sorted(manifest['folds'].values()) == [0, 1, 2, 3, 4]
  assert manifest['stored_size'] == [12, 12]
  assert os.path.exists(os.path.join(out, records.REPORT))
  assert not [f for f in os.listdir(out) if 'tmp' in f]


def test_round_trip(prepared):
  out, examples, _ = prepared
  ds = records.PreparedDataset(out)
  assert len(ds) == len(examples)
  np.testing.assert_array_equal(ds.expressions, [e['expression'] for e in examples])
  np.testing.assert_array_equal(ds.identities, [e['identity'] for e in examples])
  np.testing.assert_array_equal(ds.intensities, [e['intensity'] for e in examples])
  assert list(ds.subjects) == [e['subject'] for e in examples]
  for i, ex in enumerate(examples):
    got = ds[i]
    np.testing.assert_array_equal(got['image'], ex['image'])
    assert got['image'].dtype == np.uint8
    for key in ('expression', 'identity', 'subject', 'source_path', 'intensity'):
      assert got[key] == ex[key]
    np.testing.assert_array_equal(got['transform'],
                                  np.float32(ex['transform']))
    # The stored record is byte-for-byte the Example the writer serialises.
    expected = records.make_example(
        png=records.encode_png(ex['image']), height=12, width=10,
        expression=ex['expression'], identity=ex['identity'],
        subject=ex['subject'], source_path=ex['source_path'],
        transform=ex['transform'], intensity=ex['intensity'])
    assert ds.record_bytes(i) == expected


def test_random_access_equals_sequential_scan(prepared):
  out, _, manifest = prepared
  ds = records.PreparedDataset(out)
  sequential = [p for s in manifest['shards']
                for p in records.read_records(os.path.join(out, s['file']))]
  order = np.random.default_rng(1).permutation(len(ds))
  for i in order:
    assert ds.record_bytes(int(i)) == sequential[i]


def _crc32c_bitwise(data: bytes) -> int:
  crc = 0xFFFFFFFF
  for byte in data:
    crc ^= byte
    for _ in range(8):
      crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
  return crc ^ 0xFFFFFFFF


def _masked(crc):
  return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def test_independent_tfrecord_decoder(prepared):
  """Parses the shards with a from-scratch TFRecord reader (own CRC32C)."""
  assert _crc32c_bitwise(b'123456789') == 0xE3069283  # The CRC-32C check value.
  out, examples, manifest = prepared
  payloads = []
  for shard in manifest['shards']:
    with open(os.path.join(out, shard['file']), 'rb') as f:
      data = f.read()
    pos = 0
    while pos < len(data):
      (length,) = struct.unpack_from('<Q', data, pos)
      (length_crc,) = struct.unpack_from('<I', data, pos + 8)
      assert _masked(_crc32c_bitwise(data[pos:pos + 8])) == length_crc
      payload = data[pos + 12:pos + 12 + length]
      (payload_crc,) = struct.unpack_from('<I', data, pos + 12 + length)
      assert _masked(_crc32c_bitwise(payload)) == payload_crc
      payloads.append(payload)
      pos += 16 + length
    assert pos == len(data)
  assert len(payloads) == len(examples)
  parsed = records.parse_example(payloads[5])
  assert parsed['subject'] == examples[5]['subject']
  np.testing.assert_array_equal(records.decode_png(parsed['png']),
                                examples[5]['image'])


def test_crc_corruption_detected(prepared, tmp_path):
  out = _copy(prepared, tmp_path)
  ds = records.PreparedDataset(out)
  shard = ds.manifest['shards'][1]
  path = os.path.join(out, shard['file'])
  with np.load(os.path.join(out, shard['index_file'])) as index:
    offsets = index['offsets']
  # Flip one byte in the payload of the shard's record 3 (= record 10).
  pos = int(offsets[3]) + 12 + 40
  with open(path, 'r+b') as f:
    f.seek(pos)
    byte = f.read(1)
    f.seek(pos)
    f.write(bytes([byte[0] ^ 0xFF]))
  with pytest.raises(records.DataError, match=r'records-00001\.tfrecord, record 3: CRC'):
    ds[10]
  ds[9]  # Other records still read.
  with pytest.raises(records.DataError, match='CRC'):
    list(records.read_records(path))


def test_truncated_shard_detected(prepared, tmp_path):
  out = _copy(prepared, tmp_path)
  path = os.path.join(out, 'records-00002.tfrecord')
  with open(path, 'r+b') as f:
    f.truncate(os.path.getsize(path) - 5)
  with pytest.raises(records.DataError, match=r'records-00002\.tfrecord.*truncated'):
    records.PreparedDataset(out)
  with pytest.raises(records.DataError, match='truncated'):
    list(records.read_records(path))


def test_index_out_of_date_detected(prepared, tmp_path):
  out = _copy(prepared, tmp_path)
  # A shard that grew (e.g. rewritten) no longer matches manifest and index.
  path = os.path.join(out, 'records-00000.tfrecord')
  with open(path, 'ab') as f:
    f.write(records.frame_record(b'extra'))
  with pytest.raises(records.DataError, match=r'records-00000\.tfrecord.*out of date'):
    records.PreparedDataset(out)


def test_index_labels_out_of_date_detected(prepared, tmp_path):
  out = _copy(prepared, tmp_path)
  index_path = os.path.join(out, 'records-00000.tfrecord' + records.INDEX_SUFFIX)
  with np.load(index_path) as index:
    arrays = dict(index)
  arrays['expression'] = (arrays['expression'] + 1) % len(CLASSES)
  np.savez(index_path, **arrays)
  ds = records.PreparedDataset(out)
  with pytest.raises(records.DataError, match=r'records-00000\.tfrecord, record 2: labels'):
    ds[2]


def test_missing_manifest(tmp_path):
  with pytest.raises(FileNotFoundError, match='manifest.json'):
    records.PreparedDataset(str(tmp_path))


def test_incomplete_write_leaves_no_manifest(tmp_path):
  def bad_examples():
    yield from _examples(4)
    raise RuntimeError('producer died')
  with pytest.raises(RuntimeError):
    records_writer.write_prepared_dataset(
        str(tmp_path), bad_examples(), name='x', expression_classes=CLASSES,
        num_folds=2, stored_size=12)
  assert not os.path.exists(tmp_path / records.MANIFEST)
  with pytest.raises(FileNotFoundError):
    records.PreparedDataset(str(tmp_path))


def test_label_outside_classes_rejected(tmp_path):
  examples = _examples(4)
  examples[2]['expression'] = 3
  with pytest.raises(ValueError, match=r'raw/S002/2\.png.*expression label 3'):
    records_writer.write_prepared_dataset(
        str(tmp_path), examples, name='x', expression_classes=CLASSES,
        num_folds=2, stored_size=12)


def test_identity_used_by_two_subjects_rejected(tmp_path):
  examples = _examples(4)
  examples[3]['identity'] = 0
  with pytest.raises(ValueError, match='identity 0'):
    records_writer.write_prepared_dataset(
        str(tmp_path), examples, name='x', expression_classes=CLASSES,
        num_folds=2, stored_size=12)


def test_pickle_and_lazy_open(prepared):
  out, examples, _ = prepared
  ds = records.PreparedDataset(out)
  assert not ds._fds  # Nothing opened until a record is read.
  ds[0]
  assert ds._fds
  clone = pickle.loads(pickle.dumps(ds))
  assert not clone._fds
  np.testing.assert_array_equal(clone[22]['image'], examples[22]['image'])


def test_keep_decoded_reads_each_record_once(prepared, monkeypatch):
  out, examples, _ = prepared
  ds = records.PreparedDataset(out)
  assert ds.decoded_bytes() == 23 * 12 * 12 * 3  # manifest stored_size 12.
  assert not ds.keep_decoded(ds.decoded_bytes() - 1)  # Does not fit: streams.
  assert ds.keep_decoded(ds.decoded_bytes())
  first = [ds[i] for i in range(len(ds))]
  with pytest.raises(IndexError):
    ds[23]
  reads = []
  monkeypatch.setattr(ds, 'raw', lambda i: reads.append(i))
  for i in (0, 22, -1):
    again = ds[i]
    expected = examples[i]
    np.testing.assert_array_equal(again['image'], expected['image'])
    assert again['expression'] == expected['expression']
    assert again['subject'] == expected['subject']
    np.testing.assert_array_equal(again['transform'], expected['transform'])
    assert not again['image'].flags.writeable  # Nobody changes a kept face.
  assert reads == []  # Served from memory: no read, CRC, parse or decode.
  again = ds[3]
  again.pop('image')  # The caller's dict is its own.
  assert 'image' in ds[3] and ds[3]['image'] is first[3]['image']
  monkeypatch.undo()
  clone = pickle.loads(pickle.dumps(ds))  # Workers keep their own.
  assert clone._decoded == {}


def test_fixed_folds_and_unknown_identity(tmp_path):
  examples = _examples(6)
  for k, ex in enumerate(examples):
    ex.update(identity=-1, subject=f'img{k}', png=records.encode_png(ex.pop('image')))
  fold_of = {f'img{k}': (0 if k < 2 else -1) for k in range(6)}
  manifest = records_writer.write_prepared_dataset(
      str(tmp_path), examples, name='sfew_like', expression_classes=CLASSES,
      num_folds=1, fold_of_subject=fold_of, stored_size=12)
  assert manifest['identities'] == []
  assert manifest['counts']['fold'] == {'-1': 4, '0': 2}
  ds = records.PreparedDataset(str(tmp_path))
  train, test = folds.split_indices(ds, 0)
  np.testing.assert_array_equal(test, [0, 1])
  np.testing.assert_array_equal(train, [2, 3, 4, 5])
  assert ds[3]['identity'] == -1
  with pytest.raises(ValueError, match='fold_of_subject lacks'):
    records_writer.write_prepared_dataset(
        str(tmp_path), examples, name='x', expression_classes=CLASSES,
        num_folds=1, fold_of_subject={'img0': 0}, stored_size=12)


def test_assign_folds_deterministic_and_balanced():
  subjects = [f'S{i:03d}' for i in range(23)]
  a = folds.assign_folds(subjects, 10, seed=3)
  b = folds.assign_folds(list(reversed(subjects)) + subjects[:5], 10, seed=3)
  assert a == b
  sizes = np.bincount(list(a.values()), minlength=10)
  assert sizes.max() - sizes.min() <= 1 and sizes.sum() == 23
  assert folds.assign_folds(subjects, 10, seed=4) != a
  with pytest.raises(ValueError, match='exceeds'):
    folds.assign_folds(subjects[:3], 4)


def test_split_indices_subject_independent(prepared):
  ds = records.PreparedDataset(prepared[0])
  seen_test = []
  for fold in range(ds.num_folds):
    train, test = folds.split_indices(ds, fold)
    assert len(train) + len(test) == len(ds)
    assert not set(ds.subjects[train]) & set(ds.subjects[test])
    seen_test.extend(test)
  assert sorted(seen_test) == list(range(len(ds)))
  with pytest.raises(ValueError, match='fold 5'):
    folds.split_indices(ds, 5)
