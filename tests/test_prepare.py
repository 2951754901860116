"""Tests for data_prep.prepare and the readers, on fixture trees in each
dataset's real layout (tests/fake_layouts.py)."""

import hashlib
import io
import os
import shutil

import numpy as np
from PIL import Image
import pytest

import fake_layouts as fl
import prep_runs
from data_prep import prep_state
from data_prep import prep_worker
from data_prep import prepare
from data_prep import readers
from relgan_jax.data import align
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import records


_run = prep_runs.run
_report = prep_runs.report
_rejected = prep_runs.rejected
_records = prep_runs.prepared_records


def _tree_digest(root):
  """{relative path: (sha1, mtime)} of every file under root."""
  out = {}
  for dirpath, _, names in os.walk(root):
    for n in names:
      p = os.path.join(dirpath, n)
      with open(p, 'rb') as f:
        out[os.path.relpath(p, root)] = (hashlib.sha1(f.read()).hexdigest(),
                                         os.stat(p).st_mtime_ns)
  return out


def _corrupt(path):
  with open(path, 'wb') as f:
    f.write(b'\x89PNG\r\n\x1a\n this is not an image')


def _encode(image, **kw):
  buf = io.BytesIO()
  image.save(buf, format='PNG', **kw)
  return buf.getvalue()


def test_load_rgb_replicates_grey_and_scales_16_bit():
  grey = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
  rgb = align.load_rgb(_encode(Image.fromarray(grey)))
  assert rgb.shape == (3, 4, 3) and rgb.dtype == np.uint8
  for c in range(3):
    np.testing.assert_array_equal(rgb[..., c], grey)
  deep = Image.fromarray(grey.astype(np.uint16) * 257)  # 16-bit grey PNG.
  np.testing.assert_array_equal(align.load_rgb(_encode(deep))[..., 1],
                                grey)
  palette = Image.fromarray(grey).convert('P')
  assert align.load_rgb(_encode(palette)).shape == (3, 4, 3)
  with pytest.raises(Exception):
    align.load_rgb(b'not an image')


# ------------------------------------------------------------------------------
# CK+
# ------------------------------------------------------------------------------


def _ckplus_tree(raw):
  fl.make_ckplus(raw, {
      ('S005', '001'): (5, 3.0),  # disgust
      ('S005', '002'): (4, None),  # no label file
      ('S010', '001'): (12, 7.0),  # surprise
      ('S010', '003'): (3, 0.0),  # neutral: not a protocol class
      ('S011', '002'): (3, 2.5),  # not a whole number
      ('S022', '001'): (4, 1.0),  # anger; its last frame is corrupt
      ('S022', '002'): (4, 2.0),  # a second, disagreeing label file
  }, size=(64, 49))
  _corrupt(raw / 'cohn-kanade-images/S022/001/S022_001_00000004.png')
  (raw / 'Emotion/S022/002/S022_002_00000003_emotion.txt').write_text('5\n')
  (raw / 'cohn-kanade-images/S005/001/.DS_Store').write_bytes(b'\0')
  (raw / 'cohn-kanade-images/S005/001/notes.txt').write_text('x')


def test_ckplus_last_three_frames_labels_folds_and_rejections(tmp_path):
  raw, out = tmp_path / 'CK+', tmp_path / 'out'
  _ckplus_tree(raw)
  before = _tree_digest(raw)
  manifest = _run('ckplus', raw, out, num_folds=2, seed=3)
  assert _tree_digest(raw) == before  # The raw tree is only read.

  ds, recs = _records(out)
  frames = lambda s, q, ts: [
      f'cohn-kanade-images/{s}/{q}/{s}_{q}_{t:08d}.png' for t in ts]
  # The protocol's frames, then each used sequence's first (neutral) frame
  # as a stage-1-only record.
  assert [r['source_path'] for r in recs] == (
      frames('S005', '001', [3, 4, 5]) + frames('S010', '001', [10, 11, 12])
      + frames('S022', '001', [2, 3]) + frames('S005', '001', [1])
      + frames('S010', '001', [1]) + frames('S022', '001', [1]))
  assert manifest['expression_classes'] == [
      'anger', 'contempt', 'disgust', 'fear', 'happy', 'sadness', 'surprise']
  np.testing.assert_array_equal(ds.expressions,
                                [2] * 3 + [6] * 3 + [0] * 2 + [-1] * 3)
  np.testing.assert_array_equal(ds.stage1_only, [False] * 8 + [True] * 3)
  assert [r['stage1_only'] for r in recs] == [False] * 8 + [True] * 3
  assert list(ds.subjects) == (['S005'] * 3 + ['S010'] * 3 + ['S022'] * 2
                               + ['S005', 'S010', 'S022'])
  np.testing.assert_array_equal(ds.identities,
                                [0] * 3 + [1] * 3 + [2] * 2 + [0, 1, 2])
  assert manifest['identities'] == ['S005', 'S010', 'S022']
  assert manifest['folds'] == folds_lib.assign_folds(
      ['S005', 'S010', 'S022'], 2, seed=3)
  # Counted apart: in no class or fold count, in no fold's train/test set.
  assert manifest['counts']['stage1_only'] == 3
  assert sum(manifest['counts']['expression'].values()) == 8
  assert sum(manifest['counts']['fold'].values()) == 8
  for fold in range(2):
    assert not set().union(*folds_lib.split_indices(ds, fold)) & {8, 9, 10}
  assert ds[0]['image'].shape == (112, 112, 3)
  # Grey frames are replicated to three equal channels.
  image = ds[0]['image']
  assert np.array_equal(image[..., 0], image[..., 1])
  assert np.array_equal(image[..., 0], image[..., 2])

  rejected = _rejected(out)
  assert rejected == {
      'cohn-kanade-images/S005/002': 'no label',
      'cohn-kanade-images/S010/003': 'no label',
      'cohn-kanade-images/S011/002': 'ambiguous label',
      'cohn-kanade-images/S022/002': 'ambiguous label',
      'cohn-kanade-images/S022/001/S022_001_00000004.png': 'unreadable',
  }
  report = _report(out)
  assert 'neutral' in next(r['detail'] for r in report['rejected']
                           if r['path'].endswith('S010/003'))
  assert report['counts']['per_class']['surprise'] == 3
  assert report['counts']['per_subject'] == {'S005': 3, 'S010': 3, 'S022': 2}
  assert report['skipped_by_protocol'] == {
      'frames of rejected sequences': 4 + 3 + 3 + 4,
      'frames other than the last 3 up to the labelled frame': 1 + 8 + 0,
      'not an image file': 1}
  assert report['skipped_examples']['not an image file'] == [
      'cohn-kanade-images/S005/001/notes.txt']  # Relative to the raw folder.
  # listed = used + rejected: 9 frames kept by the reader (8 written, 1
  # unreadable) and 4 sequences it rejected.
  assert report['totals'] == dict(listed=13, used=8, rejected=5,
                                  skipped_by_protocol=24)
  assert {k: v for k, v in report['stage1_only'].items() if k != 'what'} == (
      dict(listed=3, used=3, subject_without_protocol_images=0,
           per_subject={'S005': 1, 'S010': 1, 'S022': 1}))


# ------------------------------------------------------------------------------
# Oulu-CASIA, BU-3DFE, BU-4DFE: reader protocols
# ------------------------------------------------------------------------------


def test_oulu_casia_strong_light_last_three_frames(tmp_path):
  raw = tmp_path / 'Oulu'
  fl.make_oulu_casia(raw, {
      'P001': {'Anger': 5, 'Happiness': 4, 'Contempt': 2},
      'P002': {'Surprise': 3, 'sadness': 6},
  }, size=(32, 24))
  # Other lighting and the NIR camera are not part of the protocol.
  weak = raw / 'OriginalImg/VL/Weak/P001/Anger'
  weak.mkdir(parents=True)
  shutil.copy(raw / 'OriginalImg/VL/Strong/P001/Anger/000.jpeg', weak)
  listing = readers.READERS['oulu_casia'](str(raw), readers.ReaderOptions())
  strong = 'OriginalImg/VL/Strong'
  assert [(it.path, it.expression, it.subject) for it in listing.items] == (
      [(f'{strong}/P001/Anger/{t:03d}.jpeg', 0, 'P001') for t in (2, 3, 4)]
      + [(f'{strong}/P001/Happiness/{t:03d}.jpeg', 3, 'P001')
         for t in (1, 2, 3)]
      + [(f'{strong}/P002/sadness/{t:03d}.jpeg', 4, 'P002') for t in (3, 4, 5)]
      + [(f'{strong}/P002/Surprise/{t:03d}.jpeg', 5, 'P002')
         for t in (0, 1, 2)])
  assert listing.classes == ('anger', 'disgust', 'fear', 'happy', 'sadness',
                             'surprise')
  assert [(r.path, r.reason) for r in listing.rejections] == [
      (f'{strong}/P001/Contempt', 'no label')]
  # Each sequence's first (neutral) frame, unless it is one of the last 3.
  assert [(it.path, it.expression, it.subject, it.stage1_only)
          for it in listing.stage1_only] == [
              (f'{strong}/P001/Anger/000.jpeg', -1, 'P001', True),
              (f'{strong}/P001/Happiness/000.jpeg', -1, 'P001', True),
              (f'{strong}/P002/sadness/000.jpeg', -1, 'P002', True)]
  assert not any(it.stage1_only for it in listing.items)
  assert listing.skipped['frames before the last 3 of a sequence'] == 1 + 2
  # Pointing at the Strong folder itself gives the same images.
  direct = readers.READERS['oulu_casia'](str(raw / strong),
                                         readers.ReaderOptions())
  assert len(direct.items) == len(listing.items)
  assert len(direct.stage1_only) == 3
  off = readers.READERS['oulu_casia'](
      str(raw), readers.ReaderOptions(neutral_first_frames=False))
  assert off.items == listing.items and not off.stage1_only


def test_bu3dfe_two_highest_intensities_and_neutral(tmp_path):
  raw = tmp_path / 'BU3DFE'
  fl.make_bu3dfe(raw, {'F0001': 'WH', 'M0002': 'AE'}, size=(16, 16))
  bad = {
      'F0001/F0002_AN03WH_F2D.bmp': 'ambiguous label',  # Not its folder.
      'F0001/F0001_XX03WH_F2D.bmp': 'no label',  # Unknown expression.
      'F0001/photo.bmp': 'no label',  # Not a BU-3DFE name.
      'F0001/F0001_AN03WH_F2D.png': 'duplicate',  # AN03 again.
  }
  for name in bad:
    shutil.copy(raw / 'F0001/F0001_HA01WH_F2D.bmp', raw / name)
  listing = readers.READERS['bu3dfe'](str(raw), readers.ReaderOptions())
  assert len(listing.items) == 2 * 6 * 2
  assert {it.intensity for it in listing.items} == {3, 4}
  assert listing.classes == readers.base.BASIC_SIX
  f1 = [it for it in listing.items if it.subject == 'F0001']
  assert [(it.path, it.expression) for it in f1[:4]] == [
      ('F0001/F0001_AN03WH_F2D.bmp', 0), ('F0001/F0001_AN04WH_F2D.bmp', 0),
      ('F0001/F0001_DI03WH_F2D.bmp', 1), ('F0001/F0001_DI04WH_F2D.bmp', 1)]
  assert {r.path: r.reason for r in listing.rejections} == bad
  assert listing.skipped == {
      'intensities 01-02 (protocol uses 03 and 04)': 2 * 6 * 2,
      'neutral images (include_neutral is off)': 2,
      'not a frontal 2D texture image (F2D)': 2 * 2}

  out = tmp_path / 'out'
  manifest = _run('bu3dfe', raw, out, num_folds=2, stored_size=16,
                  options=readers.ReaderOptions(include_neutral=True))
  assert manifest['expression_classes'][-1] == 'neutral'
  ds, recs = _records(out)
  assert len(ds) == 2 * (6 * 2 + 1)
  neutral = [(r['source_path'], r['intensity']) for r in recs
             if r['expression'] == 6]
  assert neutral == [('F0001/F0001_NE00WH_F2D.bmp', 0),
                     ('M0002/M0002_NE00AE_F2D.bmp', 0)]
  assert sorted(set(ds.intensities)) == [0, 3, 4]
  assert _rejected(out) == bad


def test_bu4dfe_all_frames_or_a_stride(tmp_path):
  raw = tmp_path / 'BU4DFE'
  fl.make_bu4dfe(raw, {'F001': {'Angry': 10, 'Happy': 2},
                       'M043': {'Sad': 7, 'Smile': 1}}, size=(8, 8))
  every = readers.READERS['bu4dfe'](str(raw), readers.ReaderOptions())
  assert len(every.items) == 10 + 2 + 7
  strided = readers.READERS['bu4dfe'](str(raw),
                                      readers.ReaderOptions(frame_stride=3))
  assert [(it.path, it.expression, it.subject) for it in strided.items] == (
      [(f'F001/Angry/{t:03d}.jpg', 0, 'F001') for t in (0, 3, 6, 9)]
      + [('F001/Happy/000.jpg', 3, 'F001')]
      + [(f'M043/Sad/{t:03d}.jpg', 4, 'M043') for t in (0, 3, 6)])
  assert [(r.path, r.reason) for r in strided.rejections] == [
      ('M043/Smile', 'no label')]
  with pytest.raises(ValueError, match='frame_stride'):
    readers.READERS['bu4dfe'](str(raw), readers.ReaderOptions(frame_stride=0))
  (tmp_path / 'empty').mkdir()
  with pytest.raises(FileNotFoundError, match='does not look like BU-4DFE'):
    readers.READERS['bu4dfe'](str(tmp_path / 'empty'), readers.ReaderOptions())


# ------------------------------------------------------------------------------
# SFEW: fixed split, no identities, duplicates
# ------------------------------------------------------------------------------


def test_sfew_train_val_split_without_identities(tmp_path):
  raw, out = tmp_path / 'SFEW_2', tmp_path / 'out'
  fl.make_sfew(raw, {'Train': {'Angry': 3, 'Happy': 2},
                     'Val': {'Angry': 2, 'Sad': 1}, 'Test': {'Angry': 2}},
               size=(36, 28))
  # The same picture twice with one label: the first (Train) copy is kept.
  shutil.copy(raw / 'Train/Angry/Movie_Angry_000_00000000.png',
              raw / 'Val/Angry/copy.png')
  # The same picture with two labels: neither is used.
  shutil.copy(raw / 'Train/Happy/Movie_Happy_001_00000007.png',
              raw / 'Val/Sad/conflict.png')
  manifest = _run('sfew', raw, out, num_folds=10)
  ds, recs = _records(out)
  assert manifest['num_folds'] == 1 and manifest['identities'] == []
  assert manifest['expression_classes'] == [
      'anger', 'disgust', 'fear', 'happy', 'neutral', 'sadness', 'surprise']
  paths = [r['source_path'] for r in recs]
  assert len(paths) == 3 + 1 + 2 + 1
  assert all(p.startswith('Train/') for p, f in zip(paths, ds.folds) if f == -1)
  assert sorted(p for p, f in zip(paths, ds.folds) if f == 0) == [
      'Val/Angry/Movie_Angry_000_00000000.png',
      'Val/Angry/Movie_Angry_001_00000007.png',
      'Val/Sad/Movie_Sad_000_00000000.png']
  assert (ds.identities == -1).all() and list(ds.subjects) == paths
  assert _rejected(out) == {
      'Val/Angry/copy.png': 'duplicate',
      'Train/Happy/Movie_Happy_001_00000007.png': 'ambiguous label',
      'Val/Sad/conflict.png': 'ambiguous label'}
  report = _report(out)
  assert report['counts']['per_split'] == {'test': 3, 'train': 4}
  assert report['skipped_by_protocol'] == {
      'files outside Train/ and Val/ (Test/)': 2}


# ------------------------------------------------------------------------------
# image_folder through the command line; folds
# ------------------------------------------------------------------------------


def test_image_folder_cli_subject_regex_and_resize(tmp_path, capsys):
  raw, out = tmp_path / 'fer48', tmp_path / 'out'
  fl.make_image_folder(raw, {
      'happy': ['s01_a.png', 's02_a.png', 's03_b.png', 'nosubject.png'],
      'sad': ['s01_c.png', 's04_d.png'],
      'unused': ['s01_e.png']})
  prepare.main([
      '--dataset=image_folder', f'--raw_dir={raw}', f'--out_dir={out}',
      '--subject_regex=/(?P<subject>s\\d+)_', '--subject_regex_on=path',
      '--classes=sad,happy',
      '--num_folds=2', '--stored_size=32', '--workers=1', '--no_progress'])
  assert 'prepared image_folder: 5 images (2 classes, 4 subjects)' in (
      capsys.readouterr().out)
  ds, recs = _records(out)
  assert [(r['source_path'], r['expression'], r['subject']) for r in recs] == [
      ('happy/s01_a.png', 1, 's01'), ('happy/s02_a.png', 1, 's02'),
      ('happy/s03_b.png', 1, 's03'), ('sad/s01_c.png', 0, 's01'),
      ('sad/s04_d.png', 0, 's04')]
  assert ds.manifest['prep']['align'] is False  # Implied for image_folder.
  # 48x48 -> 32x32: the stored transform is the resize.
  np.testing.assert_allclose(recs[0]['transform'],
                             [2 / 3, 0, 2 / 3 * 0.5 - 0.5,
                              0, 2 / 3, 2 / 3 * 0.5 - 0.5], atol=1e-6)
  assert ds[0]['image'].shape == (32, 32, 3)
  assert _rejected(out) == {'happy/nosubject.png': 'no subject'}
  assert _report(out)['skipped_by_protocol'] == {
      'files in folders that are not a listed class (unused/)': 1}


def test_folds_are_subject_independent_and_deterministic(tmp_path):
  raw = tmp_path / 'faces'
  fl.make_image_folder(raw, {c: [f'p{s}_{c}{k}.png' for s in range(7)
                                 for k in range(2)]
                             for c in ('a', 'b')}, size=(8, 8))
  opts = readers.ReaderOptions(subject_regex=r'p\d')
  m1 = _run('image_folder', raw, tmp_path / 'o1', num_folds=3, options=opts)
  m2 = _run('image_folder', raw, tmp_path / 'o2', num_folds=3, options=opts)
  m3 = _run('image_folder', raw, tmp_path / 'o3', num_folds=3, seed=1,
            options=opts)
  subjects = [f'p{s}' for s in range(7)]
  assert m1['folds'] == m2['folds'] == folds_lib.assign_folds(subjects, 3, 0)
  assert m3['folds'] == folds_lib.assign_folds(subjects, 3, 1)
  assert sorted(m1['folds'].values()) == [0, 0, 0, 1, 1, 2, 2]
  ds = records.PreparedDataset(str(tmp_path / 'o1'))
  for fold in range(3):
    train, test = folds_lib.split_indices(ds, fold)
    assert not set(ds.subjects[train]) & set(ds.subjects[test])
    assert len(test) == 4 * list(m1['folds'].values()).count(fold)


# ------------------------------------------------------------------------------
# Restarts, reruns, the raw tree
# ------------------------------------------------------------------------------


def test_interrupted_prep_resumes_and_reruns_are_safe(tmp_path, monkeypatch,
                                                      capsys):
  raw, out = tmp_path / 'BU4DFE', tmp_path / 'out'
  fl.make_bu4dfe(raw, {'F001': {'Angry': 4, 'Happy': 3},
                       'M002': {'Sad': 4}}, size=(16, 16))
  reference = _run('bu4dfe', raw, tmp_path / 'ref', num_folds=2)

  original, calls = prep_worker.Processor.__call__, []

  def crash_on_sixth(self, job):
    calls.append(job)
    if len(calls) == 6:
      raise KeyboardInterrupt
    return original(self, job)

  monkeypatch.setattr(prep_worker.Processor, '__call__', crash_on_sixth)
  with pytest.raises(KeyboardInterrupt):
    _run('bu4dfe', raw, out, num_folds=2, chunk_size=2)
  # Two finished chunks; nothing that looks like a prepared folder.
  assert sorted(os.listdir(out / prep_state.WORK_DIR)) == [
      'chunk-000000.pkl', 'chunk-000001.pkl', 'state.json']
  with pytest.raises(FileNotFoundError, match='manifest.json not found'):
    records.PreparedDataset(str(out))
  (out / 'records-00000.tfrecord.tmp').write_bytes(b'half a shard')

  monkeypatch.setattr(prep_worker.Processor, '__call__', original)
  calls.clear()
  manifest = _run('bu4dfe', raw, out, num_folds=2, chunk_size=2)
  assert 'resuming: 4 of 11 images already processed' in capsys.readouterr().out
  assert sorted(os.listdir(out)) == [
      'manifest.json', 'prep_report.json', prep_state.INVENTORY,
      'records-00000.tfrecord',
      'records-00000.tfrecord.index.npz']
  resumed = records.PreparedDataset(str(out))
  fresh = records.PreparedDataset(str(tmp_path / 'ref'))
  assert len(resumed) == len(fresh) == 11
  assert all(resumed.record_bytes(i) == fresh.record_bytes(i)
             for i in range(11))
  assert manifest['folds'] == reference['folds']

  # A complete folder with the same settings is left alone ...
  assert _run('bu4dfe', raw, out, num_folds=2) == manifest
  assert 'nothing to do' in capsys.readouterr().out
  # ... other settings need --overwrite.
  with pytest.raises(FileExistsError, match='overwrite'):
    _run('bu4dfe', raw, out, num_folds=2, seed=1)
  assert _run('bu4dfe', raw, out, num_folds=2, seed=1,
              overwrite=True)['prep']['seed'] == 1
  # Impossible folds fail before any image is processed.
  calls.clear()
  monkeypatch.setattr(prep_worker.Processor, '__call__', crash_on_sixth)
  with pytest.raises(ValueError, match='num_folds=3 exceeds the 2 subjects'):
    _run('bu4dfe', raw, tmp_path / 'out3', num_folds=3)
  assert not calls


def test_out_dir_inside_raw_dir_is_refused(tmp_path):
  raw = tmp_path / 'BU4DFE'
  fl.make_bu4dfe(raw, {'F001': {'Angry': 1}}, size=(8, 8))
  with pytest.raises(ValueError, match='inside raw_dir'):
    _run('bu4dfe', raw, raw / 'prepared')
  assert not (raw / 'prepared').exists()


def test_processing_errors_are_reported_and_nothing_usable_fails(
    tmp_path, monkeypatch):
  raw, out = tmp_path / 'BU4DFE', tmp_path / 'out'
  fl.make_bu4dfe(raw, {'F001': {'Angry': 2}, 'M001': {'Sad': 1}}, size=(8, 8))

  def broken(image, size):
    raise RuntimeError(f'cannot warp {image.shape}')

  monkeypatch.setattr(prep_worker.align_lib, 'resize_only', broken)
  with pytest.raises(ValueError, match='0 usable images .* too few'):
    _run('bu4dfe', raw, out, num_folds=1)
  assert not (out / 'manifest.json').exists()
  report = _report(out)
  assert report['rejected_by_reason'] == {'processing error': 3}
  assert report['rejected'][0] == dict(
      path='F001/Angry/000.jpg', reason='processing error',
      detail='RuntimeError: cannot warp (8, 8, 3)')


# ------------------------------------------------------------------------------
# With face detection (dlib), in two worker processes
# ------------------------------------------------------------------------------


def test_detection_prep_reports_faceless_and_corrupt_frames(tmp_path):
  pytest.importorskip('dlib')
  raw, out = tmp_path / 'CK+', tmp_path / 'out'
  blank = 'cohn-kanade-images/S010/001/S010_001_00000003.png'
  grace = [(fl.grace_hopper(), fl.GRACE_HOPPER_FACE)]
  painter = fl.face_painter(grace, face_fraction=0.5, blank_keys=[blank])
  fl.make_ckplus(raw, {('S005', '001'): (3, 5.0), ('S010', '001'): (4, 6.0)},
                 painter, size=(240, 184))
  _corrupt(raw / 'cohn-kanade-images/S005/001/S005_001_00000002.png')
  manifest = _run('ckplus', raw, out, num_folds=2, align=True, workers=2)
  assert manifest['prep']['align'] and manifest['prep']['landmarks'] == 68
  assert _rejected(out) == {
      'cohn-kanade-images/S005/001/S005_001_00000002.png': 'unreadable',
      blank: 'no face'}
  ds, recs = _records(out)
  # S005/001 has 3 frames, all used; S010/001's first frame is stage-1-only.
  assert [r['source_path'][-12:] for r in recs] == [
      '00000001.png', '00000003.png', '00000002.png', '00000004.png',
      '00000001.png']
  np.testing.assert_array_equal(ds.stage1_only, [0, 0, 0, 0, 1])
  # Each transform is a similarity scaling the eyes (89 px apart in the photo,
  # whose 216 px face box is pasted at 0.5 * 184 px +-10%, so 37.9 px) to the
  # template's 0.30 * 112 = 33.6 px: a scale of 0.887 +-10%.
  for r in recs:
    a, b, _, c, d, _ = r['transform']
    assert a == pytest.approx(d, abs=1e-5) and b == pytest.approx(-c, abs=1e-5)
    assert 0.887 * 0.85 < np.hypot(a, c) < 0.887 * 1.15
  assert ds[0]['image'].shape == (112, 112, 3)

