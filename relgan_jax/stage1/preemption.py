"""Preemption: SIGTERM -> checkpoint at the next step boundary -> exit 143;
Ctrl-C the same way -> exit 130.

Cloud schedulers (Spot/preemptible TPU and GPU VMs, Kubernetes, SLURM) send
SIGTERM some seconds before they kill a job. Stage 1 watches for it with a
`Watcher` around its loop:

  * single process: a Python SIGTERM handler sets a flag; the loop finishes
    the current step, writes a checkpoint, waits for it and raises
    `Preempted`; `relgan_jax.main` turns that into exit status 143
    (128 + SIGTERM), so supervisors see a terminated job and restart it, and
    the next start resumes from that checkpoint;
  * several processes (jax.distributed): JAX's preemption service catches
    SIGTERM on whichever host receives it and agrees a step at which every
    host saves (orbax `CheckpointManager.reached_preemption(step)`, i.e.
    `multihost_utils.reached_preemption_sync_point`); all hosts then save
    together and exit 143.

A deadline bounds the whole thing: if the checkpoint is not written within
`grace_secs` of the signal (a step or a compile that does not end in time),
the process exits 143 anyway, without that checkpoint; the previous periodic
checkpoint is intact (orbax finalises a checkpoint by renaming its temporary
folder, so an interrupted save is never taken for a complete one).

A second SIGTERM while the checkpoint is written kills the process at once.

Ctrl-C (SIGINT; a notebook's "interrupt" too) is a person stopping the run,
not a scheduler: with one process it is handled like SIGTERM, the step it is
at is checkpointed and `Preempted` says how to resume (exit status 130), but
without a deadline. A second Ctrl-C raises KeyboardInterrupt at once, as
Python's default would (the previous periodic checkpoint is intact).
"""

import os
import signal
import threading
import time
from typing import Any, Callable, Optional

from absl import logging

from relgan_jax import cli

EXIT_CODE = 128 + signal.SIGTERM  # 143: what a SIGTERMed process returns.


class Preempted(Exception):
  """Training stopped for a preemption (or Ctrl-C: `signum` SIGINT) after
  checkpointing `step`; `exit_code` is the status to exit with."""

  def __init__(self, step: int, checkpoint_dir: str,
               signum: int = signal.SIGTERM):
    reason = 'Interrupted (Ctrl-C)' if signum == signal.SIGINT else 'Preempted'
    super().__init__(
        f'{reason}: checkpoint of step {step} written to {checkpoint_dir}; '
        'start the same command again to resume.')
    self.step = step
    self.checkpoint_dir = checkpoint_dir
    self.exit_code = 128 + int(signum)


def _force_exit(grace_secs: float, last_checkpoint: Callable[[], Any]) -> None:
  logging.error('Preemption: no checkpoint within %.1f s of SIGTERM; exiting '
                'without it (last complete checkpoint: step %s).', grace_secs,
                last_checkpoint())
  logging.flush()
  os._exit(EXIT_CODE)  # pylint: disable=protected-access


class Watcher:
  """Notices a preemption; `should_stop(step)` is asked after every step.

  Use as a context manager around the training loop: the SIGTERM handler (one
  process) is installed on entry and the previous handler restored on exit.

  Args:
    manager: the run's orbax CheckpointManager (its `reached_preemption` is
      JAX's multi-host preemption sync point), or None.
    grace_secs: the deadline from the signal to exit.
    last_checkpoint: callable giving the latest complete checkpoint step, for
      the deadline's log line.
  """

  def __init__(self, manager: Any = None, *, grace_secs: float = 9.0,
               last_checkpoint: Callable[[], Any] = lambda: None):
    import jax  # pylint: disable=g-import-not-at-top
    self._manager = manager
    self._grace = float(grace_secs)
    self._last_checkpoint = last_checkpoint
    # With jax.distributed running, JAX's preemption service owns SIGTERM (a
    # Python handler would take it away from the other hosts).
    self.multi_process = jax.process_count() > 1
    self._pid = os.getpid()
    self._previous = None
    self._installed = False
    self._timer: Optional[threading.Timer] = None
    self.signal_time: Optional[float] = None
    self.signum: int = signal.SIGTERM  # The signal noticed (SIGINT: Ctrl-C).

  # --- Signal handling ---

  def _on_sigterm(self, signum, frame):
    del frame
    if os.getpid() != self._pid:
      # A forked child (e.g. a data worker) inherited the handler: behave as
      # if it had none.
      signal.signal(signum, signal.SIG_DFL)
      os.kill(os.getpid(), signum)
      return
    if self.signal_time is not None:  # Second signal: give up at once.
      logging.error('Second SIGTERM: exiting without a checkpoint.')
      os._exit(EXIT_CODE)  # pylint: disable=protected-access
    logging.warning('SIGTERM: checkpointing at the end of this step, then '
                    'exiting (status %d).', EXIT_CODE)
    self._notice()

  def _on_sigint(self, signum, frame):
    del frame
    if os.getpid() != self._pid or self.signal_time is not None:
      # A forked child, or a second Ctrl-C: Python's default, at once.
      raise KeyboardInterrupt
    logging.warning('Ctrl-C: checkpointing at the end of this step, then '
                    'exiting (status %d); Ctrl-C again stops at once.',
                    cli.INTERRUPTED)
    self.signum = signum
    self.signal_time = time.monotonic()  # No deadline: a person is waiting.

  def _notice(self) -> None:
    self.signal_time = time.monotonic()
    self._timer = threading.Timer(self._grace, _force_exit,
                                  (self._grace, self._last_checkpoint))
    self._timer.daemon = True
    self._timer.start()

  def __enter__(self):
    if (not self.multi_process
        and threading.current_thread() is threading.main_thread()):
      self._previous = (signal.signal(signal.SIGTERM, self._on_sigterm),
                        signal.signal(signal.SIGINT, self._on_sigint))
      self._installed = True
    elif not self.multi_process:
      logging.warning('Not in the main thread: SIGTERM is not intercepted, '
                      'a preemption kills the run (it resumes from the last '
                      'periodic checkpoint).')
    return self

  def __exit__(self, exc_type, exc, tb):
    if exc_type is None or not issubclass(exc_type, Preempted):
      self.cancel_deadline()  # Not leaving for a preemption: no deadline.
    if self._installed:
      for signum, previous in zip((signal.SIGTERM, signal.SIGINT),
                                  self._previous):
        signal.signal(signum, signal.SIG_DFL if previous is None else previous)
      self._installed = False
    return False

  def cancel_deadline(self) -> None:
    """Stops the exit deadline (the caller is exiting by itself)."""
    if self._timer is not None:
      self._timer.cancel()

  # --- Queries ---

  @property
  def requested(self) -> bool:
    """A preemption notice has arrived (in this process)."""
    return self.signal_time is not None

  def should_stop(self, step: int) -> bool:
    """True when training should checkpoint `step` now and stop.

    Every process must call this after every step, with the same steps: with
    several processes it is a sync point of JAX's preemption service.
    """
    if self.multi_process and self._manager is not None:
      if self._manager.reached_preemption(step):
        if self.signal_time is None:
          logging.warning('Preemption sync point at step %d: checkpointing, '
                          'then exiting (status %d).', step, EXIT_CODE)
          self._notice()
        return True
      return False
    return self.requested
