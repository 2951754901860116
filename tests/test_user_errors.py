"""Bad input meets one clear line and loses nothing (issue 15).

Every command line (relgan_jax.main, .predict, .reenact, data_prep.prepare,
data_prep.synthetic, the benchmarks) reports a problem the user can fix as ONE line
`<prog>: error: ...` on stderr, status 2 for the command line and 1 for what
is found after parsing, without a traceback; and nothing the earlier run or
prepared set wrote changes (hashes before/after). The numbers in the test
names are the issue's items. Tests marked `slow` run the CLI in subprocesses
(a few seconds each; the ones that train the tiny config, tens of seconds).
"""

import contextlib
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import cli_runs
import fake_layouts as fl
from data_prep import prepare
from relgan_jax import cli
from relgan_jax import predict
from relgan_jax import reenact
from relgan_jax import workdir_guard
from relgan_jax.data import synthetic_set as synthetic

REPO = cli_runs.REPO
NUM_STEPS = 3
LOCKED = re.compile(r'Locked (\S+run\.lock)')


# --- Helpers ------------------------------------------------------------------


def _digest(root) -> dict:
  """{relative path: (sha1, mtime_ns)} of every file under root, but the lock
  file (its content is the pid of whoever holds it last)."""
  out = {}
  for dirpath, _, names in os.walk(root):
    for name in names:
      if name == workdir_guard.LOCK_FILE:
        continue
      path = os.path.join(dirpath, name)
      with open(path, 'rb') as f:
        out[os.path.relpath(path, root)] = (hashlib.sha1(f.read()).hexdigest(),
                                            os.stat(path).st_mtime_ns)
  return out


def _error_line(prog: str, status: int, stderr: str, expected_status: int,
                *words: str) -> str:
  """The one `prog: error:` line of stderr, after checking the status, that
  there is no traceback and no other error line, and that it names `words`."""
  assert status == expected_status, stderr[-3000:]
  assert 'Traceback' not in stderr, stderr[-3000:]
  lines = [line for line in stderr.splitlines() if 'error:' in line]
  assert len(lines) == 1, stderr[-3000:]
  (line,) = lines
  assert line.startswith(f'{prog}: error: '), line
  for word in words:
    assert word in line, (word, line)
  return line


def _run_module(module: str, *args: str, timeout: float = 300,
                env=None) -> subprocess.CompletedProcess:
  return subprocess.run(
      [sys.executable, '-m', module, *args], cwd=REPO, capture_output=True,
      text=True, timeout=timeout,
      env=env or cli_runs.env(None, num_devices=1))


def _in_process(main, argv) -> tuple[int, str, str]:
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = main(argv)
  return status, out.getvalue(), err.getvalue()


def _synthetic_args(out_dir, *more):
  return (f'--out_dir={out_dir}', '--num_identities=2', '--size=24',
          '--num_folds=2', '--neutral_images=2', '--images_per_intensity=1',
          '--workers=1', *more)


# --- data_prep.synthetic (items 1, 8) -----------------------------------------


@pytest.mark.slow
def test_1_synthetic_never_replaces_a_prepared_set_without_overwrite(
    tmp_path):
  out = tmp_path / 'set'
  made = _run_module('data_prep.synthetic', *_synthetic_args(out))
  assert made.returncode == 0, made.stderr[-3000:]
  (out / 'prep_report.json').write_text('{"left": "by an earlier prepare"}')
  before = _digest(out)
  again = _run_module('data_prep.synthetic',
                      *_synthetic_args(out, '--seed=5'))
  _error_line('data_prep.synthetic', again.returncode, again.stderr, 1,
              str(out), 'already holds a prepared synthetic set',
              '--overwrite')
  assert _digest(out) == before
  replaced = _run_module('data_prep.synthetic',
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
  refused = _run_module('data_prep.synthetic', *_synthetic_args(
      out, f'--contact_sheet={sheet}'))
  _error_line('data_prep.synthetic', refused.returncode, refused.stderr, 2,
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
  bad = _run_module('data_prep.synthetic', f'--out_dir={out}',
                    '--num_identities=3', '--num_folds=5')
  _error_line('data_prep.synthetic', bad.returncode, bad.stderr, 2,
              'num_folds=5', 'num_identities=3')
  assert not out.exists()
  a_file = tmp_path / 'a_file'
  a_file.write_text('x')
  bad = _run_module('data_prep.synthetic', *_synthetic_args(a_file))
  _error_line('data_prep.synthetic', bad.returncode, bad.stderr, 1,
              'is a file')
  missing = _run_module('data_prep.synthetic', '--num_identities=3')
  _error_line('data_prep.synthetic', missing.returncode, missing.stderr, 2,
              'out_dir')


# --- data_prep.prepare (items 4, 6, 7) ----------------------------------------


def _class_folders(raw, people=3, per_class=2):
  """The README's layout: <class>/S<id>_<k>.png."""
  fl.make_image_folder(raw, {
      c: [f'S{p:03d}_{c}{k}.png' for p in range(people)
          for k in range(per_class)] for c in ('anger', 'happy')},
      size=(24, 24))


def _prep(raw, out, *more):
  return _in_process(prepare.main, [
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
  before = _digest(out)
  fl.make_image_folder(raw, {'happy': ['S007_new.png']}, size=(24, 24))
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=3')
  _error_line('data_prep.prepare', status, stderr, 1, str(out),
              '1 new (e.g. happy/S007_new.png)', '--overwrite')
  os.remove(raw / 'anger' / 'S000_anger0.png')
  with open(raw / 'anger' / 'S001_anger1.png', 'ab') as f:
    f.write(b'\0')
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_',
                            '--num_folds=3')
  _error_line('data_prep.prepare', status, stderr, 1, '1 new', '1 removed',
              '1 modified (e.g. anger/S001_anger1.png)')
  assert _digest(out) == before
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
  _error_line('data_prep.prepare', status, stderr, 1,
              "subject_regex '^(P\\d+)_' matches none of the 12 image file "
              'names', "e.g. 'S000_anger0.png'", '--subject_regex_on=path')
  assert not out.exists()
  # Only some match: at the default 10 folds the line says how many and
  # which were left out.
  fl.make_image_folder(raw, {'happy': ['x.png', 'y.png']}, size=(24, 24))
  status, _, stderr = _prep(raw, out, r'--subject_regex=^(S\d+)_')
  _error_line('data_prep.prepare', status, stderr, 1,
              'num_folds=10 exceeds the 3 subjects', 'left out 2 of 14',
              'happy/x.png')
  assert 'note: subject_regex' in stderr  # Printed, not only in the JSON.
  assert not out.exists()
  status, _, stderr = _prep(raw, out, '--subject_regex=(')
  _error_line('data_prep.prepare', status, stderr, 2, 'not a regular')


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
  _error_line('data_prep.prepare', status, stderr, 1,
              '0 usable images', 'no face: 4', 'prep_report.json')
  assert (out / 'prep_report.json').exists()
  assert not (out / 'manifest.json').exists()


@pytest.mark.slow
def test_prepare_command_line_usage_errors(tmp_path):
  missing = _run_module('data_prep.prepare', '--dataset=image_folder',
                        f'--raw_dir={tmp_path / "nothing"}',
                        f'--out_dir={tmp_path / "out"}')
  _error_line('data_prep.prepare', missing.returncode, missing.stderr, 1,
              'nothing', 'not a folder')
  bad = _run_module('data_prep.prepare', '--dataset=nope',
                    f'--raw_dir={tmp_path}', f'--out_dir={tmp_path / "o"}')
  _error_line('data_prep.prepare', bad.returncode, bad.stderr, 2,
              '--dataset=nope', 'one of')


# --- relgan_jax.main (items 2, 3, 9) ------------------------------------------


def test_lock_is_exclusive_and_released(tmp_path):
  workdir = str(tmp_path / 'run')
  lock = workdir_guard.acquire_lock(workdir)
  # flock belongs to the open file: a second open conflicts even here.
  with pytest.raises(workdir_guard.WorkdirLockedError,
                     match=f'in use by another run \\(pid {os.getpid()} '):
    workdir_guard.acquire_lock(workdir)
  lock.release()
  workdir_guard.acquire_lock(workdir).release()


def test_config_record_allows_cadence_and_longer_schedules(tmp_path):
  from configs import tiny  # pylint: disable=import-outside-toplevel
  workdir = str(tmp_path / 'run')
  config = tiny.get_config()
  workdir_guard.check_and_record(workdir, config, 'train_gan')
  changed = tiny.get_config()
  changed.seed = 3
  # No results yet: the record does not bind (e.g. a failed first start).
  workdir_guard.check_and_record(workdir, changed, 'train_gan')
  os.makedirs(os.path.join(workdir, 'checkpoints'))
  with pytest.raises(workdir_guard.ConfigChangedError, match='seed 3 -> 0'):
    workdir_guard.check_and_record(workdir, config, 'train_gan')
  longer = tiny.get_config()
  longer.seed = 3
  longer.train.num_steps = 40
  longer.train.log_every = 7
  longer.train.checkpoint_every = 9
  longer.data.read_threads = 1
  longer.data.keep_decoded_mib = longer.data.keep_crops_mib = 0
  longer.protocol.folds = (1,)
  workdir_guard.check_and_record(workdir, longer, 'train_gan')
  shorter = longer.copy_and_resolve_references()
  shorter.train.num_steps = 20
  with pytest.raises(workdir_guard.ConfigChangedError,
                     match='train.num_steps 40 -> 20'):
    workdir_guard.check_and_record(workdir, shorter, 'train_gan')
  with pytest.raises(workdir_guard.ConfigChangedError, match='--mode=all'):
    workdir_guard.check_and_record(workdir, longer, 'all')


def test_data_prepared_again_at_the_same_path_is_refused(tmp_path):
  from configs import tiny  # pylint: disable=import-outside-toplevel
  workdir = str(tmp_path / 'run')
  manifest = {'name': 'synthetic', 'num_records': 40, 'folds': {'a': 0},
              'shards': [{'file': 'records-00000.tfrecord', 'bytes': 100}],
              'prep': {'seconds': 1.0}}
  workdir_guard.check_and_record(workdir, tiny.get_config(), 'train_gan')
  workdir_guard.check_data(workdir, manifest, 'data/x')
  os.makedirs(os.path.join(workdir, 'checkpoints'))
  # A resume keeps the digest; the same records made again at another time
  # are the same data.
  workdir_guard.check_and_record(workdir, tiny.get_config(), 'train_gan')
  workdir_guard.check_data(workdir, dict(manifest, prep={'seconds': 2.0}),
                           'data/x')
  other = dict(manifest, shards=[{'file': 'records-00000.tfrecord',
                                  'bytes': 101}])
  with pytest.raises(workdir_guard.ConfigChangedError,
                     match='data/x is not the data .* prepared again'):
    workdir_guard.check_data(workdir, other, 'data/x')


def _train_args(data_dir, workdir, *more):
  # protocol.num_folds=5 on 2-fold data: --mode=train_gan uses no folds
  # (item 9), so this is no error.
  return cli_runs.tiny_train_args(data_dir, str(workdir), NUM_STEPS,
                                  '--config.protocol.num_folds=5', *more)


@pytest.fixture(scope='module')
def locked_run(data_dir, tmp_path_factory):
  """Run A trains; run B starts on the same workdir while A holds it
  (A stopped with SIGSTOP meanwhile, so the timing cannot hide the lock)."""
  root = tmp_path_factory.mktemp('locked')
  # The test run's compile cache, with the 2 devices of every other tiny
  # stage-1 run: the same compiled programs.
  env = cli_runs.env(None, num_devices=2)
  workdir = root / 'run'
  run_a = cli_runs.Run(_train_args(data_dir, workdir), env)
  try:
    run_a.wait_for(LOCKED, timeout=300)
    os.kill(run_a.proc.pid, signal.SIGSTOP)
    try:
      before = _digest(workdir)
      started = time.monotonic()
      run_b = subprocess.run(
          [sys.executable, '-m', 'relgan_jax.main',
           *_train_args(data_dir, workdir)], cwd=REPO, env=env,
          capture_output=True, text=True, timeout=300)
      b_seconds = time.monotonic() - started
      after = _digest(workdir)
    finally:
      os.kill(run_a.proc.pid, signal.SIGCONT)
    status_a = run_a.finish()
  except BaseException:
    run_a.proc.kill()
    raise
  return dict(workdir=workdir, env=env, run_a=run_a, status_a=status_a,
              run_b=run_b, b_seconds=b_seconds, before=before, after=after)


def _fingerprint(text: str) -> str:
  found = cli_runs.FINGERPRINT.findall(text)
  assert len(found) == 1, text[-3000:]
  assert int(found[0][0]) == NUM_STEPS
  return found[0][1]


@pytest.mark.slow
def test_2_second_run_on_a_locked_workdir_is_refused(locked_run, data_dir):
  run_a, run_b = locked_run['run_a'], locked_run['run_b']
  assert locked_run['status_a'] == 0, run_a.text()[-4000:]
  _error_line('relgan_jax', run_b.returncode, run_b.stderr, 1,
              str(locked_run['workdir']), 'in use by another run',
              f'pid {run_a.proc.pid}', 'another --workdir')
  assert locked_run['b_seconds'] < 120
  assert locked_run['after'] == locked_run['before']  # B wrote nothing.
  assert 'Stage 1' not in run_b.stderr  # ...and trained nothing.
  fingerprint_a = _fingerprint(run_a.text())
  # stderr is a pipe, not a terminal: no progress bar redrawn into the log.
  assert '\r' not in run_a.text() and '%|' not in run_a.text()
  # A's own state is what the workdir holds: the same command again (a
  # finished run; what may change on resume, the logging and checkpoint
  # cadence, changed) reports A's fingerprint.
  again = _run_module('relgan_jax.main', *_train_args(
      data_dir, locked_run['workdir'], '--config.train.log_every=5',
      '--config.train.checkpoint_every=7'), env=locked_run['env'])
  assert again.returncode == 0, again.stderr[-3000:]
  assert _fingerprint(again.stderr) == fingerprint_a


@pytest.mark.slow
def test_3_resume_with_a_changed_config_is_refused(locked_run, data_dir,
                                                   tmp_path):
  assert locked_run['status_a'] == 0
  workdir, env = locked_run['workdir'], locked_run['env']
  before = _digest(workdir)
  changed = _run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, '--config.train.batch_size=4', '--config.seed=7'),
                        env=env)
  _error_line('relgan_jax', changed.returncode, changed.stderr, 1,
              str(workdir), 'seed 0 -> 7', 'train.batch_size 8 -> 4',
              'another --workdir')
  width = _run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, '--config.model.width=0.25'), env=env)
  _error_line('relgan_jax', width.returncode, width.stderr, 1,
              'model.width 0.125 -> 0.25')
  other = tmp_path / 'other_data'
  other.mkdir()
  moved = _run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, f'--config.data.dir={other}'), env=env)
  _error_line('relgan_jax', moved.returncode, moved.stderr, 1, 'data.dir')
  mode = _run_module('relgan_jax.main', *[
      a for a in _train_args(data_dir, workdir) if a != '--mode=train_gan'],
                     env=env)
  _error_line('relgan_jax', mode.returncode, mode.stderr, 1,
              '--mode=train_gan', '--mode=all')
  assert _digest(workdir) == before
  # (What may change on resume, the logging and checkpoint cadence, is
  # resumed in test_2 above.)


@pytest.mark.slow
def test_9_main_command_line_errors_are_one_line(tmp_path):
  nope = _run_module('relgan_jax.main', '--config=nope.py',
                     f'--workdir={tmp_path / "w"}')
  _error_line('relgan_jax', nope.returncode, nope.stderr, 2, 'nope.py',
              'no such config file')
  misspelt = _run_module('relgan_jax.main', '--config=configs/tiny.py',
                         f'--workdir={tmp_path / "w"}',
                         '--config.train.batchsize=4')
  _error_line('relgan_jax', misspelt.returncode, misspelt.stderr, 2,
              'batch_size')
  no_workdir = _run_module('relgan_jax.main', '--config=configs/tiny.py')
  _error_line('relgan_jax', no_workdir.returncode, no_workdir.stderr, 2,
              '--workdir')
  a_file = tmp_path / 'a_file'
  a_file.write_text('x')
  file_workdir = _run_module('relgan_jax.main', '--config=configs/tiny.py',
                             f'--workdir={a_file}', '--mode=train_gan')
  _error_line('relgan_jax', file_workdir.returncode, file_workdir.stderr, 1,
              'is a file')
  assert not (tmp_path / 'w').exists()
  # Folds vs people are checked before a face is rendered.
  few = _run_module('relgan_jax.main', '--config=configs/tiny.py',
                    f'--workdir={tmp_path / "few"}',
                    '--config.data.synthetic_identities=3',
                    '--config.protocol.num_folds=5')
  _error_line('relgan_jax', few.returncode, few.stderr, 1,
              'num_folds=5 needs 1 <= num_folds <= num_identities=3')
  assert not (tmp_path / 'few' / 'data').exists()


@pytest.mark.slow
def test_benchmark_command_lines_are_one_line(tmp_path):
  env = cli_runs.env(None, num_devices=2)
  odd = _run_module('benchmarks.bench_step', '--batch=3', '--num_devices=2',
                    env=env)
  _error_line('benchmarks.bench_step', odd.returncode, odd.stderr, 2,
              '--batch=3', 'multiple of 2')
  unknown = _run_module('benchmarks.bench_step', '--nope=1', env=env)
  _error_line('benchmarks.bench_step', unknown.returncode, unknown.stderr, 2,
              "'nope'")
  variant = _run_module('benchmarks.loop_overhead', '--config=configs/tiny.py',
                        f'--data_dir={tmp_path / "none"}',
                        '--variant=one_thread:data.threads=1', env=env)
  _error_line('benchmarks.loop_overhead', variant.returncode, variant.stderr,
              1, "no field 'data.threads'")
  missing = _run_module('benchmarks.bench_pipeline',
                        f'--data_dir={tmp_path / "none"}', env=env)
  _error_line('benchmarks.bench_pipeline', missing.returncode,
              missing.stderr, 1, 'manifest.json not found')
  mine = tmp_path / 'mine'  # Not made by the benchmark: never deleted.
  mine.mkdir()
  (mine / 'notes.txt').write_text('mine')
  refused = _run_module('benchmarks.prep_throughput', f'--out={mine}',
                        env=env)
  _error_line('benchmarks.prep_throughput', refused.returncode,
              refused.stderr, 2, f'--out={mine}', 'did not make')
  assert sorted(os.listdir(mine)) == ['notes.txt']
  kept = tmp_path / 'bench.json'
  kept.write_text('an earlier result')
  refused = _run_module('benchmarks.bench_step', f'--out={kept}', env=env)
  _error_line('benchmarks.bench_step', refused.returncode, refused.stderr, 2,
              f'--out={kept} exists', '--overwrite')
  assert kept.read_text() == 'an earlier result'


def test_an_output_file_is_never_replaced_silently(tmp_path):
  """cli.check_new_output: the check reenact, bench_step and stage1_curve
  run on their output files before any work."""
  new, old = tmp_path / 'new.png', tmp_path / 'old.png'
  old.write_text('mine')
  cli.check_new_output('out', str(new), overwrite=False)  # Nothing there.
  cli.check_new_output('out', str(old), overwrite=True)
  with pytest.raises(cli.UsageError, match=re.escape(
      f'--out={old} exists; give another path, or --overwrite to replace '
      'it.')):
    cli.check_new_output('out', str(old), overwrite=False)
  with pytest.raises(cli.UsageError, match='is a folder; give a file'):
    cli.check_new_output('out', str(tmp_path), overwrite=True)
  assert old.read_text() == 'mine' and not new.exists()


@pytest.mark.slow
def test_5_mistyped_data_dir_is_not_filled_with_synthetic_faces(tmp_path):
  mistyped = tmp_path / 'projects'  # Holds other things, no manifest.json.
  mistyped.mkdir()
  (mistyped / 'notes.txt').write_text('mine')
  out = _run_module('relgan_jax.main', '--config=configs/tiny.py',
                    f'--workdir={tmp_path / "w"}', '--mode=train_gan',
                    f'--config.data.dir={mistyped}')
  _error_line('relgan_jax', out.returncode, out.stderr, 1, str(mistyped),
              'mistyped', 'notes.txt')
  assert sorted(os.listdir(mistyped)) == ['notes.txt']


# --- predict / reenact (items 10, 11) -----------------------------------------


def test_10_predict_bad_workdir_images_and_crops_folder(tmp_path):
  photo = tmp_path / 'photo.png'
  photo.write_bytes(b'not really')
  status, _, err = _in_process(predict.main, [
      f'--workdir={tmp_path / "missing"}', str(photo)])
  _error_line('relgan_jax.predict', status, err, 1, 'missing',
              'is not a folder')
  (tmp_path / 'empty').mkdir()
  status, _, err = _in_process(predict.main, [
      f'--workdir={tmp_path / "empty"}', str(photo)])
  _error_line('relgan_jax.predict', status, err, 1, 'No trained encoder',
              'relgan_jax.main')
  status, _, err = _in_process(predict.main, [
      f'--workdir={tmp_path}', str(tmp_path / 'nope.jpg')])
  _error_line('relgan_jax.predict', status, err, 2, 'no such image file',
              'nope.jpg')
  status, _, err = _in_process(predict.main, [
      f'--workdir={tmp_path}', f'--save_crops={photo}', str(photo)])
  _error_line('relgan_jax.predict', status, err, 2, '--save_crops',
              'is a file')
  status, _, err = _in_process(predict.main, [str(photo)])
  _error_line('relgan_jax.predict', status, err, 2, 'required', '--workdir')


def test_10_reenact_bad_workdir_and_missing_source(tmp_path):
  photo = tmp_path / 'photo.png'
  photo.write_bytes(b'not really')
  common = [f'--target={photo}', f'--out={tmp_path / "o.png"}']
  status, _, err = _in_process(reenact.main, [
      f'--workdir={tmp_path / "missing"}', f'--source={photo}', *common])
  _error_line('relgan_jax.reenact', status, err, 1, 'missing',
              'is not a folder')
  (tmp_path / 'empty').mkdir()
  status, _, err = _in_process(reenact.main, [
      f'--workdir={tmp_path / "empty"}', f'--source={photo}', *common])
  _error_line('relgan_jax.reenact', status, err, 1, 'No trained stage1')
  status, _, err = _in_process(reenact.main, [
      f'--workdir={tmp_path}', f'--source={tmp_path / "smile.jpg"}',
      *common])
  _error_line('relgan_jax.reenact', status, err, 2, 'smile.jpg',
              'does not exist')
  assert not (tmp_path / 'o.png').exists()


@pytest.mark.slow
def test_11_reenact_takes_the_top_workdir_of_a_pretrained_run(
    tmp_path_factory, tmp_path):
  """configs/synthetic.py's layout: stage 1 once in run/pretrain, used frozen
  by every fold (fold_k has encoder/ and classifier/, no stage1/)."""
  import shutil  # pylint: disable=import-outside-toplevel
  import apps_workdir  # pylint: disable=import-outside-toplevel
  from relgan_jax.evaluation import inference  # pylint: disable=import-outside-toplevel
  run = apps_workdir.get(tmp_path_factory)
  top = tmp_path / 'synthetic'
  shutil.copytree(os.path.join(run.fold_dir, 'stage1'), top / 'pretrain')
  for part in ('encoder', 'classifier'):
    shutil.copytree(os.path.join(run.fold_dir, part), top / 'fold_0' / part)
  reenactor = inference.load_reenactor(str(top))
  assert reenactor.folder == str(top / 'pretrain')
  # The preprocessing of fold 0's classifier (stored size 37).
  assert reenactor.preprocessing['stored_size'] == 37
  face = tmp_path / 'face.png'
  from PIL import Image  # pylint: disable=import-outside-toplevel
  Image.fromarray(run.dataset[int(run.test_idx[0])]['image']).save(face)
  out = tmp_path / 'x.png'
  status, stdout, err = _in_process(reenact.main, [
      f'--workdir={top}', f'--source={face}', f'--target={face}',
      f'--out={out}', '--no_align'])
  assert status == 0, err
  assert str(top / 'pretrain') in stdout and out.exists()


@pytest.mark.parametrize('command, flag', [
    (predict.main, '--save_crops'), (reenact.main, '--source'),
    (prepare.main, '--subject_regex_on')])
def test_help_lists_the_flags_and_exits_0(command, flag):
  out = io.StringIO()
  with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_info:
    command(['--help'])
  assert exit_info.value.code == 0
  text = out.getvalue()
  assert text.startswith('usage: python -m ')
  assert flag in text
  if command is prepare.main:  # Its own flags only, not predict's or main's.
    assert '--workdir' not in text


def test_each_call_starts_from_the_defaults(tmp_path):
  # absl FlagValues keep values between parses; cli.parse_flags resets them,
  # so a flag given to one in-process call does not leak into the next.
  status, _, err = _in_process(predict.main, [
      f'--workdir={tmp_path}', '--save_crops=' + str(tmp_path / 'c'),
      str(tmp_path / 'no.jpg')])
  assert status == 2 and 'no such image file' in err
  assert predict.FLAGS.save_crops == str(tmp_path / 'c')
  _in_process(predict.main, [f'--workdir={tmp_path}', str(tmp_path / 'no.jpg')])
  assert predict.FLAGS.save_crops == ''
