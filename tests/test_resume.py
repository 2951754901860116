"""Exact resume after SIGTERM (preemption), SIGKILL and Ctrl-C, via the
command line.

Five runs of `python -m relgan_jax.main --mode=train_gan` on the tiny config
(6 steps, checkpoint every 2, 2 CPU devices), each a fresh process:

  reference:  6 steps, uninterrupted;
  run 1:      SIGTERM once step 1 is logged -> it checkpoints the step it is
              at and exits with status 143;
  run 2:      resumes from that checkpoint; SIGKILL once step 4 is logged
              (wherever it then is; an in-flight asynchronous checkpoint may
              be lost);
  run 3:      resumes from the last complete checkpoint; Ctrl-C (SIGINT)
              once its first step is logged -> it checkpoints the step it is
              at and exits with status 130;
  run 4:      resumes from that checkpoint and finishes.

Run 4's final state -- G and D parameters, both Adam states, step, rng -- must
be bitwise equal to the reference's: the data iterator position, the G-boost
schedule and every array are restored exactly. The SIGTERM -> exit and
restart -> first resumed step times are printed (run with -s to see them).
"""

import signal
import time

import chex
import cli_runs

from relgan_jax.stage1 import checkpointing

NUM_STEPS = 6


def _fingerprint(run):
  (match,) = run.all(cli_runs.FINGERPRINT)
  assert int(match.group(1)) == NUM_STEPS
  return match.group(2)


def test_sigterm_then_sigkill_resume_bitwise_equal(data_dir, tmp_path):
  env = cli_runs.env(None, num_devices=2)  # The test run's compile cache.
  # A generous preemption deadline: the 2 cores may be shared by other test
  # processes (the deadline itself is tested in tests/test_preemption.py).
  args = lambda workdir: cli_runs.tiny_train_args(
      data_dir, str(workdir), NUM_STEPS,
      '--config.train.preemption_grace_secs=300')
  ref_dir, work = tmp_path / 'reference', tmp_path / 'interrupted'

  reference = cli_runs.Run(args(ref_dir), env)
  assert reference.finish() == 0, reference.text()[-4000:]

  # Run 1: SIGTERM -> checkpoint of the step it is at -> exit 143.
  run1 = cli_runs.Run(args(work), env)
  run1.wait_for(cli_runs.STEP_LOG, test=lambda m: m.group(1) == '1')
  signalled = time.monotonic()
  run1.proc.send_signal(signal.SIGTERM)
  assert run1.finish() == 143, run1.text()[-4000:]
  sigterm_to_exit = time.monotonic() - signalled
  preempted = run1.all(cli_runs.PREEMPTED)
  assert len(preempted) == 1, run1.text()[-4000:]
  (preempted,) = preempted
  saved = int(preempted.group(1))
  assert 1 <= saved < NUM_STEPS
  manager = checkpointing.make_manager(str(work), read_only=True)
  assert manager.latest_step() == saved

  # Run 2: resumes there; SIGKILL once step 4 is logged.
  run2 = cli_runs.Run(args(work), env)
  _, resumed = run2.wait_for(cli_runs.RESUMED)
  assert int(resumed.group(1)) == saved
  first_step, _ = run2.wait_for(
      cli_runs.STEP_LOG, test=lambda m: int(m.group(1)) == saved + 1)
  restart_to_first_step = first_step - run2.started
  run2.wait_for(cli_runs.STEP_LOG, test=lambda m: m.group(1) == '4')
  run2.proc.send_signal(signal.SIGKILL)
  assert run2.finish() == -signal.SIGKILL

  # Run 3: from the last complete checkpoint; Ctrl-C at its first step.
  run3 = cli_runs.Run(args(work), env)
  _, resumed = run3.wait_for(cli_runs.RESUMED)
  resumed_at = int(resumed.group(1))
  assert saved <= resumed_at < NUM_STEPS
  run3.wait_for(cli_runs.STEP_LOG,
                test=lambda m: int(m.group(1)) == resumed_at + 1)
  run3.proc.send_signal(signal.SIGINT)
  assert run3.finish() == 130, run3.text()[-4000:]
  (interrupted,) = run3.all(cli_runs.INTERRUPTED)
  interrupted_at = int(interrupted.group(1))
  assert resumed_at < interrupted_at <= NUM_STEPS
  assert 'Traceback' not in run3.text()
  manager = checkpointing.make_manager(str(work), read_only=True)
  assert manager.latest_step() == interrupted_at

  # Run 4: from there to the end.
  run4 = cli_runs.Run(args(work), env)
  assert run4.finish() == 0, run4.text()[-4000:]
  (resumed,) = run4.all(cli_runs.RESUMED)
  assert int(resumed.group(1)) == interrupted_at

  assert _fingerprint(run4) == _fingerprint(reference)
  expected, _ = checkpointing.load_state_tree(str(ref_dir))
  got, meta = checkpointing.load_state_tree(str(work))
  assert meta['step'] == NUM_STEPS
  chex.assert_trees_all_equal(got, expected)  # Exact, leaf by leaf.
  print(f'\nSIGTERM -> exit: {sigterm_to_exit:.2f} s (checkpoint of step '
        f'{saved}); restart -> first resumed step logged: '
        f'{restart_to_first_step:.2f} s; run 3 resumed at step {resumed_at}, '
        f'checkpointed step {interrupted_at} on Ctrl-C.')
