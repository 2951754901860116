"""Helpers shared by the bad-input tests (test_user_errors*.py): a command's
one error line, a command in a subprocess, a folder's digest."""

import contextlib
import hashlib
import io
import os
import subprocess
import sys

import cli_runs
from relgan_jax import workdir_guard

REPO = cli_runs.REPO



def digest(root) -> dict:
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


def error_line(prog: str, status: int, stderr: str, expected_status: int,
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


def run_module(module: str, *args: str, timeout: float = 300,
                env=None) -> subprocess.CompletedProcess:
  return subprocess.run(
      [sys.executable, '-m', module, *args], cwd=REPO, capture_output=True,
      text=True, timeout=timeout,
      env=env or cli_runs.env(None, num_devices=1))


def in_process(main, argv) -> tuple[int, str, str]:
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = main(argv)
  return status, out.getvalue(), err.getvalue()
