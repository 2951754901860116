"""preemption.Watcher: SIGTERM is noticed, the deadline exits 143, and with
several processes the decision is JAX's preemption sync point (orbax's
`reached_preemption`); Ctrl-C is noticed without a deadline, twice stops at
once; relgan_jax.main (and every command, cli.run) ends a Ctrl-C outside
stage 1 with one line, status 130.

The whole path in a real run (SIGTERM -> checkpoint -> exit 143 -> the next
start resumes, bitwise equal to an uninterrupted run) is tested in
tests/test_resume.py.
"""

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from relgan_jax import cli
from relgan_jax.stage1 import preemption

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_sigterm_sets_the_flag_and_the_handler_is_restored():
  before = signal.getsignal(signal.SIGTERM)
  with preemption.Watcher(grace_secs=60.0) as watcher:
    assert not watcher.should_stop(1)
    os.kill(os.getpid(), signal.SIGTERM)  # Handled between bytecodes.
    assert watcher.requested
    assert watcher.should_stop(2)
    watcher.cancel_deadline()
  assert signal.getsignal(signal.SIGTERM) is before


def test_ctrl_c_has_no_deadline_and_twice_stops_at_once():
  before = signal.getsignal(signal.SIGINT)
  with pytest.raises(KeyboardInterrupt):
    with preemption.Watcher(grace_secs=0.01) as watcher:
      os.kill(os.getpid(), signal.SIGINT)  # Not KeyboardInterrupt: noticed.
      assert watcher.requested and watcher.should_stop(1)
      assert watcher.signum == signal.SIGINT
      time.sleep(0.3)  # Past grace_secs: a deadline would exit the process.
      os.kill(os.getpid(), signal.SIGINT)  # The second: at once.
      time.sleep(5)
  assert signal.getsignal(signal.SIGINT) is before


class _FakeManager:
  """Stands in for orbax's CheckpointManager.reached_preemption."""

  def __init__(self, sync_step):
    self.sync_step, self.asked = sync_step, []

  def reached_preemption(self, step):
    self.asked.append(step)
    return step == self.sync_step


def test_multi_process_decision_is_the_sync_point():
  manager = _FakeManager(sync_step=3)
  watcher = preemption.Watcher(manager, grace_secs=60.0)
  watcher.multi_process = True  # As under jax.distributed.
  with watcher:
    # No Python handler: JAX's preemption service owns SIGTERM there.
    handler = signal.getsignal(signal.SIGTERM)
    assert handler != watcher._on_sigterm  # pylint: disable=protected-access
    assert [watcher.should_stop(s) for s in (1, 2, 3)] == [False, False, True]
    assert watcher.requested  # The deadline runs from the sync point.
    watcher.cancel_deadline()
  assert manager.asked == [1, 2, 3]


def test_preempted_message_says_how_to_resume():
  e = preemption.Preempted(12, '/w/checkpoints')
  assert e.step == 12
  assert str(e) == ('Preempted: checkpoint of step 12 written to '
                    '/w/checkpoints; start the same command again to resume.')
  assert preemption.EXIT_CODE == e.exit_code == 143
  e = preemption.Preempted(3, '/w/checkpoints', signal.SIGINT)
  assert str(e) == ('Interrupted (Ctrl-C): checkpoint of step 3 written to '
                    '/w/checkpoints; start the same command again to resume.')
  assert e.exit_code == cli.INTERRUPTED == 130


# Ctrl-C while a fold runs (outside stage 1's loop): `run` stands for it.
_INTERRUPTED_FOLD = textwrap.dedent('''
    from absl import app
    from relgan_jax import main
    def run(*args):
      raise KeyboardInterrupt
    main.run = run
    app.run(main.main, flags_parser=main.parse_flags)
''')


def test_ctrl_c_outside_stage1_is_one_line_with_status_130(tmp_path):
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu')
  out = subprocess.run(
      [sys.executable, '-c', _INTERRUPTED_FOLD, '--config=configs/tiny.py',
       f'--workdir={tmp_path}'], cwd=REPO, env=env, capture_output=True,
      text=True, timeout=300)
  assert out.returncode == 130, out.stderr[-2000:]
  assert 'Traceback' not in out.stderr
  assert out.stderr.strip().splitlines()[-1] == (
      f'relgan_jax: error: interrupted (Ctrl-C); what was finished in '
      f'{tmp_path} (stage-1 checkpoints, finished folds) is kept: start the '
      'same command again to continue.')


# A process that never gets to checkpoint (stuck in a long step) still exits
# 143 at the deadline; a second SIGTERM exits at once.
_STUCK = textwrap.dedent('''
    import os, signal, sys, time
    from relgan_jax.stage1 import preemption
    second = sys.argv[1] == 'second'
    with preemption.Watcher(grace_secs=1.0 if not second else 600.0,
                            last_checkpoint=lambda: 4):
      os.kill(os.getpid(), signal.SIGTERM)
      if second:
        os.kill(os.getpid(), signal.SIGTERM)
      time.sleep(600)  # A step that never ends.
''')


@pytest.mark.parametrize('case', ['deadline', 'second'])
def test_deadline_and_second_signal_exit_143(case):
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu')
  out = subprocess.run([sys.executable, '-c', _STUCK, case], cwd=REPO,
                       env=env, capture_output=True, text=True, timeout=300)
  assert out.returncode == 143, out.stderr[-2000:]
  if case == 'deadline':
    assert ('no checkpoint within 1.0 s of SIGTERM; exiting without it (last '
            'complete checkpoint: step 4)') in out.stderr
  else:
    assert 'Second SIGTERM: exiting without a checkpoint.' in out.stderr


def test_ctrl_c_in_any_command_is_one_line_with_status_130(capsys,
                                                         monkeypatch):
  def body():
    raise KeyboardInterrupt  # What Ctrl-C raises in `predict`, `prepare`...

  assert cli.run('relgan_jax.predict', body) == cli.INTERRUPTED == 130
  assert capsys.readouterr().err == (
      'relgan_jax.predict: error: interrupted (Ctrl-C).\n')
  monkeypatch.setenv('RELGAN_TRACEBACK', '1')
  with pytest.raises(KeyboardInterrupt):
    cli.run('relgan_jax.predict', body)
