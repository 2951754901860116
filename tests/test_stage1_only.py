"""Stage-1-only records (DESIGN.md §4): CK+ / Oulu-CASIA sequences' first,
neutral frames, stored with expression -1 and `label/stage1_only` = 1, usable
only as stage 1's x_t: never a source, a ground truth, a class, a fold's
train/test record or a stage-2 record."""

import os
import shutil

import numpy as np
import pytest

import prep_runs
import fake_layouts as fl
from data_prep import prepare
from relgan_jax.data import loading
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import pairs
from relgan_jax.data import records
from relgan_jax.data import records_writer

CLASSES = ['anger', 'happy']


_run = prep_runs.run
_report = prep_runs.report
_rejected = prep_runs.rejected
_records = prep_runs.prepared_records


def _corrupt(path):
  with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n this is not an image')


def _example(k, subject, identity, expression, stage1_only=False):
  rng = np.random.default_rng(k)
  ex = dict(image=rng.integers(0, 256, (8, 8, 3), dtype=np.uint8),
            expression=expression, identity=identity, subject=subject,
            source_path=f'raw/{subject}/{k}.png', transform=[1, 0, 0, 0, 1, 0])
  if stage1_only:
    ex['stage1_only'] = True
  return ex


def _examples():
  """4 people x 2 classes x 2 images, then one stage-1-only frame each."""
  out = [_example(k, f'S{k // 4}', k // 4, (k // 2) % 2) for k in range(16)]
  out += [_example(16 + p, f'S{p}', p, -1, stage1_only=True) for p in range(4)]
  return out


def _write(out, examples, **kw):
  kw.setdefault('num_folds', 2)
  return records_writer.write_prepared_dataset(
      str(out), examples, name='x', expression_classes=CLASSES,
      stored_size=8, records_per_shard=6, **kw)


# ------------------------------------------------------------------------------
# The record format
# ------------------------------------------------------------------------------


def test_format_flag_counts_and_folds(tmp_path):
  manifest = _write(tmp_path, _examples())
  assert manifest['num_records'] == 20
  assert manifest['counts']['stage1_only'] == 4
  assert manifest['counts']['expression'] == {'anger': 8, 'happy': 8}
  assert sum(manifest['counts']['fold'].values()) == 16
  assert sorted(manifest['folds']) == ['S0', 'S1', 'S2', 'S3']
  ds = records.PreparedDataset(str(tmp_path))
  np.testing.assert_array_equal(ds.stage1_only, np.arange(20) >= 16)
  np.testing.assert_array_equal(ds.expressions[16:], [-1] * 4)
  assert ds[17]['stage1_only'] and ds[17]['expression'] == -1
  assert not ds[3]['stage1_only']
  # The Example carries the flag only where it is set.
  assert records.parse_example(ds.record_bytes(17))['stage1_only']
  assert b'label/stage1_only' not in ds.record_bytes(3)
  seen_test = []
  for fold in range(2):
    train, test = folds_lib.split_indices(ds, fold)
    assert len(train) + len(test) == 16 and max(train.max(), test.max()) < 16
    seen_test.extend(test)
  assert sorted(seen_test) == list(range(16))


def test_older_folders_read_as_without_stage1_only_records(tmp_path):
  examples = _examples()[:16]
  _write(tmp_path, examples)
  for name in os.listdir(tmp_path):  # Indexes as written before the flag.
    if name.endswith(records.INDEX_SUFFIX):
      path = os.path.join(tmp_path, name)
      with np.load(path) as index:
        arrays = {k: index[k] for k in index.files if k != 'stage1_only'}
      np.savez(path, **arrays)
  ds = records.PreparedDataset(str(tmp_path))
  assert ds.stage1_only.dtype == bool and not ds.stage1_only.any()
  assert ds[5]['stage1_only'] is False


@pytest.mark.parametrize('change, message', [
    (dict(expression=0), 'stage-1-only record has expression -1'),
    (dict(identity=-1), 'needs a known identity'),
    (dict(subject='S9', identity=9), "subject 'S9', who has no protocol"),
])
def test_writer_rejects_bad_stage1_only_records(tmp_path, change, message):
  examples = _examples()
  examples[-1].update(change)
  with pytest.raises(ValueError, match=message):
    _write(tmp_path, examples)
  assert not os.path.exists(tmp_path / records.MANIFEST)


def test_writer_rejects_an_unflagged_expression_minus_one(tmp_path):
  examples = _examples()
  del examples[-1]['stage1_only']
  with pytest.raises(ValueError, match='expression label -1 is outside'):
    _write(tmp_path, examples)


def test_reader_checks_the_flag_against_the_labels(tmp_path):
  _write(tmp_path, _examples())
  index_path = os.path.join(tmp_path, 'records-00003.tfrecord'
                            + records.INDEX_SUFFIX)  # Records 18, 19.
  with np.load(index_path) as index:
    arrays = dict(index)
  arrays['stage1_only'][:] = 0  # Now expression -1 on a protocol record.
  np.savez(index_path, **arrays)
  with pytest.raises(records.DataError, match='record 18 has expression -1, '
                     'outside the 2 manifest classes'):
    records.PreparedDataset(str(tmp_path))


# ------------------------------------------------------------------------------
# Preparation of the real layouts
# ------------------------------------------------------------------------------


def test_oulu_casia_stage1_only_neutral_frames(tmp_path, capsys):
  raw, out = tmp_path / 'Oulu', tmp_path / 'out'
  fl.make_oulu_casia(raw, {
      'P001': {'Anger': 5, 'Happiness': 4},
      'P002': {'Sadness': 6},
      'P003': {'Fear': 4},  # Its last 3 frames are corrupt: no protocol image.
  }, size=(32, 24))
  strong = raw / 'OriginalImg/VL/Strong'
  for t in (1, 2, 3):
    _corrupt(strong / f'P003/Fear/{t:03d}.jpeg')
  # A first frame with the bytes of a protocol frame: a duplicate.
  shutil.copy(strong / 'P001/Anger/004.jpeg',
              strong / 'P001/Happiness/000.jpeg')
  manifest = _run('oulu_casia', raw, out, num_folds=2, stored_size=16)
  assert '2 stage-1-only neutral frames' in capsys.readouterr().out
  ds, recs = _records(out)
  rel = 'OriginalImg/VL/Strong'
  assert [r['source_path'] for r in recs[9:]] == [
      f'{rel}/P001/Anger/000.jpeg', f'{rel}/P002/Sadness/000.jpeg']
  np.testing.assert_array_equal(ds.stage1_only, [False] * 9 + [True] * 2)
  np.testing.assert_array_equal(ds.expressions[9:], [-1, -1])
  np.testing.assert_array_equal(ds.identities[9:], [0, 1])
  assert sorted(manifest['folds']) == ['P001', 'P002']  # Not P003.
  assert manifest['counts']['stage1_only'] == 2
  assert sum(manifest['counts']['fold'].values()) == 9
  report = _report(out)
  assert report['stage1_only']['used'] == 2
  assert report['stage1_only']['listed'] == 4
  assert report['stage1_only']['subject_without_protocol_images'] == 1
  assert report['counts']['per_subject'] == {'P001': 6, 'P002': 3}
  dup = next(r for r in report['rejected']
             if r['path'] == f'{rel}/P001/Happiness/000.jpeg')
  assert dup['reason'] == 'duplicate' and 'stage-1-only' in dup['detail']
  assert _rejected(out)[f'{rel}/P003/Fear/001.jpeg'] == 'unreadable'
  # The protocol's records and folds do not depend on the stage-1-only ones.
  prepare.main(['--dataset=oulu_casia', f'--raw_dir={raw}',
                f'--out_dir={tmp_path / "plain"}', '--num_folds=2',
                '--stored_size=16', '--no_align', '--workers=1',
                '--no_progress', '--no_neutral_first_frames'])
  plain = records.PreparedDataset(str(tmp_path / 'plain'))
  assert plain.manifest['prep']['options']['neutral_first_frames'] is False
  assert len(plain) == 9 and not plain.stage1_only.any()
  assert plain.manifest['folds'] == manifest['folds']
  assert all(plain.record_bytes(i) == ds.record_bytes(i) for i in range(9))


def test_prepared_fixture_feeds_the_stage1_pipeline(tmp_path):
  from configs import tiny  # pylint: disable=g-import-not-at-top
  from relgan_jax.data import input_pipeline  # pylint: disable=g-import-not-at-top
  raw, out = tmp_path / 'CK+', tmp_path / 'out'
  # 4 people, each with two labelled sequences: anger and happy.
  fl.make_ckplus(raw, {(f'S{s:03d}', q): (4, label)
                       for s in (5, 10, 11, 22)
                       for q, label in (('001', 1.0), ('002', 5.0))},
                 size=(40, 30))
  _run('ckplus', raw, out, num_folds=2, stored_size=40)
  ds = records.PreparedDataset(str(out))
  assert len(ds) == 24 + 8 and ds.stage1_only.sum() == 8
  train, test = folds_lib.split_indices(ds, 0)
  assert len(train) == len(test) == 12  # No stage-1-only record in either.
  config = tiny.get_config()  # 32x32 crops, batch 8.
  np.testing.assert_array_equal(loading.select_records(ds, train, config),
                                train)
  np.testing.assert_array_equal(
      loading.select_records(ds, np.arange(len(ds)), config), np.arange(24))
  table = pairs.PairTable.from_dataset(ds, train)
  train_people = set(ds.subjects[train])
  it = input_pipeline.stage1_dataset(ds, train, config, seed=0, shard_index=0,
                                     shard_count=1, with_indices=True)
  targets = set()
  for batch in (next(it), next(it), next(it)):
    assert batch['x_s'].shape == batch['x_tg'].shape == (8, 32, 32, 3)
    for s, t, tg, ye_s, ye_t in zip(batch['i_s'], batch['i_t'], batch['i_tg'],
                                    batch['y_e_s'], batch['y_e_t']):
      assert pairs.check_triplet(table, s, t, tg) == []
      assert {s, tg} <= set(train)
      # x_t: b's neutral first frame, a stage-1-only record of a training
      # person (found in the dataset: not among the training indices).
      assert ds.stage1_only[t] and ds.subjects[t] in train_people
      assert ds.subjects[t] == ds.subjects[tg] != ds.subjects[s]
      assert ds.expressions[tg] == ds.expressions[s] == ye_s in (0, 4)
      assert ye_t == ds.expressions[t] == -1
      targets.add(int(t))
    assert set(batch['y_i_s']) | set(batch['y_i_t']) <= {0, 1}
  assert len(targets) == 4  # Both people's two sequences' first frames.


# ------------------------------------------------------------------------------
# The protocol's record selection
# ------------------------------------------------------------------------------


def test_select_records_leaves_stage1_only_records_out():
  from configs import tiny  # pylint: disable=g-import-not-at-top

  class Fake:
    intensities = np.array([0, 1, 2, 3, -1, -1])
    stage1_only = np.array([0, 0, 0, 0, 1, 0], bool)

  config = tiny.get_config()
  idx = np.arange(6)
  np.testing.assert_array_equal(loading.select_records(Fake, idx, config),
                                [0, 1, 2, 3, 5])
  config.data.min_intensity = 2
  np.testing.assert_array_equal(
      loading.select_records(Fake, idx[::-1], config), [5, 3, 2, 0])
