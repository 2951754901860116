"""preemption.Watcher: SIGTERM is noticed, the deadline exits 143, and with
several processes the decision is JAX's preemption sync point (orbax's
`reached_preemption`).

The whole path in a real run (SIGTERM -> checkpoint -> exit 143 -> the next
start resumes, bitwise equal to an uninterrupted run) is tested in
tests/test_resume.py.
"""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

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
  assert preemption.EXIT_CODE == 143


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
