"""`python -m relgan_jax.main` in a subprocess whose log lines are watched
(by tests/test_resume.py and tests/test_multihost.py).

The subprocess compiles with `jax_disable_most_optimizations` and the test
run's XLA flags, and shares its persistent compilation cache (conftest.py), so
only the first run of a program pays for compiling it.
"""

import os
import re
import subprocess
import sys
import threading
import time
from typing import Mapping, Optional, Sequence

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEP_LOG = re.compile(r'stage1 \[step (\d+)\]')
RESUMED = re.compile(r'Resumed from \S+ at step (\d+)\.')
PREEMPTED = re.compile(r'Preempted: checkpoint of step (\d+) written')
INTERRUPTED = re.compile(r'Interrupted \(Ctrl-C\): checkpoint of step (\d+) '
                         r'written')
FINGERPRINT = re.compile(r'Stage 1 finished at step (\d+); state fingerprint '
                         r'([0-9a-f]+)\.')


def env(cache_dir: Optional[str], num_devices: int) -> dict:
  """Environment of a CPU run with `num_devices` devices and a persistent
  compilation cache: the test run's (conftest.py) when cache_dir is None,
  none when it is '', else cache_dir."""
  out = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu',
             XLA_FLAGS=(f'--xla_force_host_platform_device_count={num_devices} '
                        + os.environ.get('RELGAN_TEST_XLA_FLAGS', '')).strip(),
             JAX_DISABLE_MOST_OPTIMIZATIONS='1')
  if cache_dir is not None:
    out.pop('JAX_COMPILATION_CACHE_DIR', None)
  if cache_dir:
    out.update(JAX_COMPILATION_CACHE_DIR=cache_dir,
               JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0',
               JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES='0')
  return out


def tiny_train_args(data_dir: str, workdir: str, num_steps: int,
                    *more: str) -> list:
  """main's flags for stage 1 of the tiny config on a prepared set.

  Without the D-terms warm-up: its length (a fraction of num_steps) is a
  constant of the step programs, so every tiny run of 2 to 6 steps then runs
  the same programs, compiled once per test run (tests/conftest.py's cache).
  """
  return ['--config=configs/tiny.py', f'--workdir={workdir}',
          '--config.loss.d_terms_warmup=0',
          '--mode=train_gan', f'--config.data.dir={data_dir}',
          # The test's own set (tests/conftest.py), not the config's to make.
          '--config.data.generate_if_missing=False',
          '--config.protocol.num_folds=2',
          f'--config.train.num_steps={num_steps}',
          '--config.train.log_every=1', '--config.train.checkpoint_every=2',
          '--config.train.image_summary_every=0',
          '--config.train.g_boost_start=0.5', '--config.data.read_threads=1',
          *more]


class Run:
  """A running `python -m relgan_jax.main ...`; its stderr lines are collected
  (with arrival times) by a thread, so the test can wait for one of them."""

  def __init__(self, args: Sequence[str], env_vars: Mapping[str, str]):
    self.started = time.monotonic()
    self.proc = subprocess.Popen(
        [sys.executable, '-m', 'relgan_jax.main', *args], cwd=REPO,
        env=dict(env_vars), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, bufsize=1)
    self.lines = []  # (monotonic time, line)
    self._cond = threading.Condition()
    self._pump = threading.Thread(target=self._read, daemon=True)
    self._pump.start()

  def _read(self):
    for line in self.proc.stderr:
      with self._cond:
        self.lines.append((time.monotonic(), line))
        self._cond.notify_all()
    with self._cond:
      self.lines.append((time.monotonic(), None))  # End of output.
      self._cond.notify_all()

  def wait_for(self, pattern: re.Pattern, timeout: float = 900.0,
               test=lambda m: True):
    """(arrival time, match) of the first line matching `pattern` (and
    `test`); AssertionError if the process ends or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    seen = 0
    with self._cond:
      while True:
        for t, line in self.lines[seen:]:
          if line is None:
            raise AssertionError(f'exited ({self.proc.wait()}) before a line '
                                 f'matching {pattern.pattern!r}:\n'
                                 + self.text()[-4000:])
          m = pattern.search(line)
          if m and test(m):
            return t, m
        seen = len(self.lines)
        left = deadline - time.monotonic()
        if left <= 0:
          self.proc.kill()
          raise AssertionError(f'no line matching {pattern.pattern!r} in '
                               f'{timeout} s:\n' + self.text()[-4000:])
        self._cond.wait(left)

  def finish(self, timeout: float = 900.0) -> int:
    """Waits for the exit; returns the status (negative = killed by signal)."""
    try:
      rc = self.proc.wait(timeout)
    except subprocess.TimeoutExpired:
      self.proc.kill()
      raise
    self._pump.join(timeout=60)
    return rc

  def text(self) -> str:
    return ''.join(line for _, line in list(self.lines) if line)

  def all(self, pattern: re.Pattern) -> list:
    return [m for _, line in list(self.lines) if line
            for m in [pattern.search(line)] if m]
