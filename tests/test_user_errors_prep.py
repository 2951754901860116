"""Bad input to data_prep meets one clear line and loses nothing (issue 15).

The cases of test_user_errors.py (its docstring says what each checks) for
data_prep.synthetic and data_prep.prepare. The numbers in the test names are
the issue's items.
"""

import json
import os

import pytest

from data_prep import prepare
from error_checks import digest, error_line, in_process, run_module
import fake_layouts as fl
from relgan_jax.data import synthetic_set as synthetic


def _synthetic_args(out_dir, *more):
  return (f'--out_dir={out_dir}', '--num_identities=2', '--size=24',
          '--num_folds=2', '--neutral_images=2', '--images_per_intensity=1',
          '--workers=1', *more)


# --- data_prep.synthetic (items 1, 8) -----------------------------------------


@pytest.mark.slow
def test_1_synthetic_never_replaces_a_prepared_set_without_overwrite(
    tmp_path):
  out = tmp_path / 'set'
  made = run_module('data_prep.synthetic', *_synthetic_args(out))
  assert made.returncode == 0, made.stderr[-3000:]
  (out / 'prep_report.json').write_text('{"left": "by an earlier prepare"}')
  before = digest(out)
  again = run_module('data_prep.synthetic',
                     *_synthetic_args(out, '--seed=5'))
  error_line('data_prep.synthetic', again.returncode, again.stderr, 1,
             str(out), 'already holds a prepared synthetic set',
             '--overwrite')
  assert digest(out) == before
  replaced = run_module('data_prep.synthetic',
                        *_synthetic_args(out, '--seed=5', '--overwrite'))
  assert replaced.returncode == 0, replaced.stderr[-3000:]
  # The old producer's report does not stay beside the new manifest.
  assert not (out / 'prep_report.json').exists()
  assert json.loads((out / 'manifest.json').read_text())['prep']['seed'] == 5


def test_1_synthetic_never_replaces_a_contact_sheet_without_overwrite(
    tmp_path):
  sheet = tmp_path / 'sheet.png'
  sheet.write_bytes(b'an earlier sheet')
  out = tmp_path / 'set'
  refused = run_module('data_prep.synthetic', *_synthetic_args(
      out, f'--contact_sheet={sheet}'))
  error_line('data_prep.synthetic', refused.returncode, refused.stderr, 2,
             f'--contact_sheet={sheet} exists', '--overwrite')
  assert sheet.read_bytes() == b'an earlier sheet'
  assert not out.exists()  # Refused before anything was rendered.


def test_8_synthetic_checks_folds_before_rendering(tmp_path):
  out = tmp_path / 'never'
  with pytest.raises(synthetic.ArgumentError, match='num_folds=5'):
    synthetic.generate(str(out), num_identities=3, num_folds=5)
  assert not out.exists()  # Nothing rendered, no shard without a manifest.
  a_file = tmp_path / 'a_file'
  a_file.write_text('not a folder')
  with pytest.raises(synthetic.OutDirError, match='is a file'):
    synthetic.generate(str(a_file), num_identities=2, num_folds=2)
  assert a_file.read_text() == 'not a folder'


@pytest.mark.slow
def test_8_synthetic_command_line_bad_folds_and_file_out_dir(tmp_path):
  out = tmp_path / 'never'
  bad = run_module('data_prep.synthetic', f'--out_dir={out}',
                   '--num_identities=3', '--num_folds=5')
  error_line('data_prep.synthetic', bad.returncode, bad.stderr, 2,
             'num_folds=5', 'num_identities=3')
  assert not out.exists()
  a_file = tmp_path / 'a_file'
  a_file.write_text('x')
  bad = run_module('data_prep.synthetic', *_synthetic_args(a_file))
  error_line('data_prep.synthetic', bad.returncode, bad.stderr, 1,
             'is a file')
  missing = run_module('data_prep.synthetic', '--num_identities=3')
  error_line('data_prep.synthetic', missing.returncode, missing.stderr, 2,
             'out_dir')


# --- data_prep.prepare (items 4, 6, 7) ----------------------------------------


def _class_folders(raw, people=3, per_class=2):
  """The README's layout: <class>/S<id>_<k>.png."""
  fl.make_image_folder(raw, {
      c: [f'S{p:03d}_{c}{k}.png' for p in range(people)
          for k in range(per_class)] for c in ('anger', 'happy')},
      size=(24, 24))


def _prep(raw, out, *more):
  return in_process(prepare.main, [
      '--dataset=image_folder', f'--raw_dir={raw}', f'--out_dir={out}',
      '--stored_size=16', '--workers=1', '--no_progress', *more])


def test_4_prepare_notices_new_removed_and_modified_raw_files(tmp_path):
  raw, out = tmp_path / 'raw', tmp_path / 'out'
  _class_folders(raw)
  status, stdout, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                                 '--num_folds=3')
  assert status == 0, stderr
  status, stdout, _ = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=3')
  assert status == 0 and 'nothing to do' in stdout
  before = digest(out)
  fl.make_image_folder(raw, {'happy': ['S007_new.png']}, size=(24, 24))
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=3')
  error_line('data_prep.prepare', status, stderr, 1, str(out),
             '1 new (e.g. happy/S007_new.png)', '--overwrite')
  os.remove(raw / 'anger' / 'S000_anger0.png')
  with open(raw / 'anger' / 'S001_anger1.png', 'ab') as f:
    f.write(b'\0')
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=3')
  error_line('data_prep.prepare', status, stderr, 1, '1 new', '1 removed',
             '1 modified (e.g. anger/S001_anger1.png)')
  assert digest(out) == before
  status, stdout, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                                 '--num_folds=3', '--overwrite')
  assert status == 0, stderr
  assert 'prepared image_folder: 12 images (2 classes, 4 subjects)' in stdout


def test_6_readme_subject_regex_matches_the_file_name(tmp_path):
  raw = tmp_path / 'raw'
  _class_folders(raw, people=3)
  status, stdout, stderr = _prep(raw, tmp_path / 'out',
                                 r'--subject_regex=^(S\d+)_', '--num_folds=3')
  assert status == 0, stderr
  assert 'prepared image_folder: 12 images (2 classes, 3 subjects)' in stdout
  # The path option keeps layouts with a subject folder working.
  status, stdout, stderr = _prep(raw, tmp_path / 'by_path',
                                 r'--subject_regex=/(S\d+)_',
                                 '--subject_regex_on=path', '--num_folds=3')
  assert status == 0, stderr
  assert '3 subjects' in stdout


def test_6_subject_regex_matching_nothing_or_some(tmp_path):
  raw = tmp_path / 'raw'
  _class_folders(raw, people=3)
  out = tmp_path / 'out'
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(P\d+)_')
  error_line('data_prep.prepare', status, stderr, 1,
             "subject_regex '^(P\\d+)_' matches none of the 12 image file "
             'names', "e.g. 'S000_anger0.png'", '--subject_regex_on=path')
  assert not out.exists()
  # Only some match: at the default 10 folds the line says how many and
  # which were left out.
  fl.make_image_folder(raw, {'happy': ['x.png', 'y.png']}, size=(24, 24))
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_')
  error_line('data_prep.prepare', status, stderr, 1,
             'num_folds=10 exceeds the 3 subjects', 'left out 2 of 14',
             'happy/x.png')
  assert 'note: subject_regex' in stderr  # Printed, not only in the JSON.
  assert not out.exists()
  status, _, stderr = _prep(raw, out, '--subject_regex=(')
  error_line('data_prep.prepare', status, stderr, 2, 'not a regular')


def test_6_report_totals_add_up_and_name_the_files_left_out(tmp_path):
  raw, out = tmp_path / 'raw', tmp_path / 'out'
  _class_folders(raw, people=3)
  fl.make_image_folder(raw, {'happy': ['x.png', 'y.png']}, size=(24, 24))
  (raw / 'happy' / 'notes.txt').write_text('not a face')
  status, stdout, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                                 '--num_folds=3')
  assert status == 0, stderr
  with open(out / 'prep_report.json') as f:
    report = json.load(f)
  totals = report['totals']
  assert totals == dict(listed=14, used=12, rejected=2, skipped_by_protocol=1)
  assert sorted(r['path'] for r in report['rejected']) == [
      'happy/x.png', 'happy/y.png']
  assert report['skipped_examples'] == {'not an image file':
                                        ['happy/notes.txt']}
  assert '2 inputs rejected (no subject: 2)' in stdout


def test_6_without_regex_the_summary_says_folds_are_not_subject_independent(
    tmp_path):
  raw = tmp_path / 'raw'
  _class_folders(raw, people=2, per_class=1)
  status, stdout, stderr = _prep(raw, tmp_path / 'out', '--num_folds=2')
  assert status == 0, stderr
  assert 'each image its own subject' in stdout
  assert 'NOT subject-independent' in stdout
  assert 'note: no subject_regex' in stderr


def test_7_align_without_any_face_is_one_line(tmp_path):
  pytest.importorskip('dlib')
  raw, out = tmp_path / 'raw', tmp_path / 'out'
  _class_folders(raw, people=2, per_class=1)
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=2', '--align')
  error_line('data_prep.prepare', status, stderr, 1,
             '0 usable images', 'no face: 4', 'prep_report.json')
  assert (out / 'prep_report.json').exists()
  assert not (out / 'manifest.json').exists()


@pytest.mark.slow
def test_prepare_command_line_usage_errors(tmp_path):
  missing = run_module('data_prep.prepare', '--dataset=image_folder',
                       f'--raw_dir={tmp_path / "nothing"}',
                       f'--out_dir={tmp_path / "out"}')
  error_line('data_prep.prepare', missing.returncode, missing.stderr, 1,
             'nothing', 'not a folder')
  bad = run_module('data_prep.prepare', '--dataset=nope',
                   f'--raw_dir={tmp_path}', f'--out_dir={tmp_path / "o"}')
  error_line('data_prep.prepare', bad.returncode, bad.stderr, 2,
             '--dataset=nope', 'one of')
