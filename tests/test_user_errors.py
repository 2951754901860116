"""Bad input meets one clear line and loses nothing (issue 15).

Every command line (relgan_jax.main, .predict, .reenact, data_prep.prepare,
data_prep.synthetic, the benchmarks) reports a problem the user can fix as
ONE line `<prog>: error: ...` on stderr, status 2 for the command line and 1
for what is found after parsing, without a traceback; and nothing the earlier
run or prepared set wrote changes (hashes before/after). The numbers in the
test names are the issue's items; the data_prep commands' cases are in
test_user_errors_prep.py, the helpers in error_checks.py. Tests marked `slow`
run the CLI in subprocesses (a few seconds each; the ones that train the tiny
config, tens of seconds).
"""

import contextlib
import io
import os
import re
import signal
import subprocess
import sys
import time

import pytest

import cli_runs
from error_checks import digest, error_line, in_process, run_module
from data_prep import prepare
from relgan_jax import cli
from relgan_jax import predict
from relgan_jax import reenact
from relgan_jax import workdir_guard

REPO = cli_runs.REPO
NUM_STEPS = 3
LOCKED = re.compile(r'Locked (\S+run\.lock)')


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
      before = digest(workdir)
      started = time.monotonic()
      run_b = subprocess.run(
          [sys.executable, '-m', 'relgan_jax.main',
           *_train_args(data_dir, workdir)], cwd=REPO, env=env,
          capture_output=True, text=True, timeout=300)
      b_seconds = time.monotonic() - started
      after = digest(workdir)
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
  error_line('relgan_jax', run_b.returncode, run_b.stderr, 1,
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
  again = run_module('relgan_jax.main', *_train_args(
      data_dir, locked_run['workdir'], '--config.train.log_every=5',
      '--config.train.checkpoint_every=7'), env=locked_run['env'])
  assert again.returncode == 0, again.stderr[-3000:]
  assert _fingerprint(again.stderr) == fingerprint_a


@pytest.mark.slow
def test_3_resume_with_a_changed_config_is_refused(locked_run, data_dir,
                                                   tmp_path):
  assert locked_run['status_a'] == 0
  workdir, env = locked_run['workdir'], locked_run['env']
  before = digest(workdir)
  changed = run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, '--config.train.batch_size=4', '--config.seed=7'),
                        env=env)
  error_line('relgan_jax', changed.returncode, changed.stderr, 1,
             str(workdir), 'seed 0 -> 7', 'train.batch_size 8 -> 4',
             'another --workdir')
  width = run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, '--config.model.width=0.25'), env=env)
  error_line('relgan_jax', width.returncode, width.stderr, 1,
             'model.width 0.125 -> 0.25')
  other = tmp_path / 'other_data'
  other.mkdir()
  moved = run_module('relgan_jax.main', *_train_args(
      data_dir, workdir, f'--config.data.dir={other}'), env=env)
  error_line('relgan_jax', moved.returncode, moved.stderr, 1, 'data.dir')
  mode = run_module('relgan_jax.main', *[
      a for a in _train_args(data_dir, workdir) if a != '--mode=train_gan'],
                     env=env)
  error_line('relgan_jax', mode.returncode, mode.stderr, 1,
             '--mode=train_gan', '--mode=all')
  assert digest(workdir) == before
  # (What may change on resume, the logging and checkpoint cadence, is
  # resumed in test_2 above.)


@pytest.mark.slow
def test_9_main_command_line_errors_are_one_line(tmp_path):
  nope = run_module('relgan_jax.main', '--config=nope.py',
                    f'--workdir={tmp_path / "w"}')
  error_line('relgan_jax', nope.returncode, nope.stderr, 2, 'nope.py',
             'no such config file')
  misspelt = run_module('relgan_jax.main', '--config=configs/tiny.py',
                        f'--workdir={tmp_path / "w"}',
                        '--config.train.batchsize=4')
  error_line('relgan_jax', misspelt.returncode, misspelt.stderr, 2,
             'batch_size')
  no_dataset = run_module('relgan_jax.main', '--config=configs/small.py:nope',
                          f'--workdir={tmp_path / "w"}')
  error_line('relgan_jax', no_dataset.returncode, no_dataset.stderr, 2,
             'error: configs/small.py needs a dataset', "not 'nope'")
  no_workdir = run_module('relgan_jax.main', '--config=configs/tiny.py')
  error_line('relgan_jax', no_workdir.returncode, no_workdir.stderr, 2,
             '--workdir')
  a_file = tmp_path / 'a_file'
  a_file.write_text('x')
  file_workdir = run_module('relgan_jax.main', '--config=configs/tiny.py',
                            f'--workdir={a_file}', '--mode=train_gan')
  error_line('relgan_jax', file_workdir.returncode, file_workdir.stderr, 1,
             'is a file')
  assert not (tmp_path / 'w').exists()
  # Folds vs people are checked before a face is rendered.
  few = run_module('relgan_jax.main', '--config=configs/tiny.py',
                   f'--workdir={tmp_path / "few"}',
                   '--config.data.synthetic_identities=3',
                   '--config.protocol.num_folds=5')
  error_line('relgan_jax', few.returncode, few.stderr, 1,
             'num_folds=5 needs 1 <= num_folds <= num_identities=3')
  assert not (tmp_path / 'few' / 'data').exists()


@pytest.mark.slow
def test_benchmark_command_lines_are_one_line(tmp_path):
  env = cli_runs.env(None, num_devices=2)
  odd = run_module('benchmarks.bench_step', '--batch=3', '--num_devices=2',
                   env=env)
  error_line('benchmarks.bench_step', odd.returncode, odd.stderr, 2,
             '--batch=3', 'multiple of 2')
  unknown = run_module('benchmarks.bench_step', '--nope=1', env=env)
  error_line('benchmarks.bench_step', unknown.returncode, unknown.stderr, 2,
             "'nope'")
  variant = run_module('benchmarks.loop_overhead', '--config=configs/tiny.py',
                       f'--data_dir={tmp_path / "none"}',
                       '--variant=one_thread:data.threads=1', env=env)
  error_line('benchmarks.loop_overhead', variant.returncode, variant.stderr,
             1, "no field 'data.threads'")
  missing = run_module('benchmarks.bench_pipeline',
                       f'--data_dir={tmp_path / "none"}', env=env)
  error_line('benchmarks.bench_pipeline', missing.returncode,
             missing.stderr, 1, 'manifest.json not found')
  mine = tmp_path / 'mine'  # Not made by the benchmark: never deleted.
  mine.mkdir()
  (mine / 'notes.txt').write_text('mine')
  refused = run_module('benchmarks.prep_throughput', f'--out={mine}',
                       env=env)
  error_line('benchmarks.prep_throughput', refused.returncode,
             refused.stderr, 2, f'--out={mine}', 'did not make')
  assert sorted(os.listdir(mine)) == ['notes.txt']
  kept = tmp_path / 'bench.json'
  kept.write_text('an earlier result')
  refused = run_module('benchmarks.bench_step', f'--out={kept}', env=env)
  error_line('benchmarks.bench_step', refused.returncode, refused.stderr, 2,
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
  out = run_module('relgan_jax.main', '--config=configs/tiny.py',
                   f'--workdir={tmp_path / "w"}', '--mode=train_gan',
                   f'--config.data.dir={mistyped}')
  error_line('relgan_jax', out.returncode, out.stderr, 1, str(mistyped),
             'mistyped', 'notes.txt')
  assert sorted(os.listdir(mistyped)) == ['notes.txt']


# --- predict / reenact (items 10, 11) -----------------------------------------


def test_10_predict_bad_workdir_images_and_crops_folder(tmp_path):
  photo = tmp_path / 'photo.png'
  photo.write_bytes(b'not really')
  status, _, err = in_process(predict.main, [
      f'--workdir={tmp_path / "missing"}', str(photo)])
  error_line('relgan_jax.predict', status, err, 1, 'missing',
             'is not a folder')
  (tmp_path / 'empty').mkdir()
  status, _, err = in_process(predict.main, [
      f'--workdir={tmp_path / "empty"}', str(photo)])
  error_line('relgan_jax.predict', status, err, 1, 'No trained encoder',
             'relgan_jax.main')
  status, _, err = in_process(predict.main, [
      f'--workdir={tmp_path}', str(tmp_path / 'nope.jpg')])
  error_line('relgan_jax.predict', status, err, 2, 'no such image file',
             'nope.jpg')
  status, _, err = in_process(predict.main, [
      f'--workdir={tmp_path}', f'--save_crops={photo}', str(photo)])
  error_line('relgan_jax.predict', status, err, 2, '--save_crops',
             'is a file')
  status, _, err = in_process(predict.main, [str(photo)])
  error_line('relgan_jax.predict', status, err, 2, 'required', '--workdir')


def test_10_reenact_bad_workdir_and_missing_source(tmp_path):
  photo = tmp_path / 'photo.png'
  photo.write_bytes(b'not really')
  common = [f'--target={photo}', f'--out={tmp_path / "o.png"}']
  status, _, err = in_process(reenact.main, [
      f'--workdir={tmp_path / "missing"}', f'--source={photo}', *common])
  error_line('relgan_jax.reenact', status, err, 1, 'missing',
             'is not a folder')
  (tmp_path / 'empty').mkdir()
  status, _, err = in_process(reenact.main, [
      f'--workdir={tmp_path / "empty"}', f'--source={photo}', *common])
  error_line('relgan_jax.reenact', status, err, 1, 'No trained stage1')
  status, _, err = in_process(reenact.main, [
      f'--workdir={tmp_path}', f'--source={tmp_path / "smile.jpg"}',
      *common])
  error_line('relgan_jax.reenact', status, err, 2, 'smile.jpg',
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
  status, stdout, err = in_process(reenact.main, [
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
  status, _, err = in_process(predict.main, [
      f'--workdir={tmp_path}', '--save_crops=' + str(tmp_path / 'c'),
      str(tmp_path / 'no.jpg')])
  assert status == 2 and 'no such image file' in err
  assert predict.FLAGS.save_crops == str(tmp_path / 'c')
  in_process(predict.main, [f'--workdir={tmp_path}', str(tmp_path / 'no.jpg')])
  assert predict.FLAGS.save_crops == ''
