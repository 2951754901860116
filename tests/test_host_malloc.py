"""glibc malloc tuning: when it applies, and that the re-exec really sets it."""

import os
import platform
import subprocess
import sys

import pytest

from relgan_jax.stage1 import host_malloc

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GLIBC_LINUX = sys.platform == 'linux' and platform.libc_ver()[0] == 'glibc'


@pytest.mark.parametrize('platforms,plugins,expected', [
    ('cpu', ('libtpu',), True),  # Asked for: CPU even with a TPU plugin.
    ('cuda', (), False),
    ('cpu,cuda', (), True),
    (None, (), True),  # Nothing but the CPU backend installed.
    (None, ('jax_plugins',), False),  # e.g. jax[cuda12].
    (None, ('libtpu',), False),
])
def test_cpu_backend_expected(monkeypatch, platforms, plugins, expected):
  if platforms is None:
    monkeypatch.delenv('JAX_PLATFORMS', raising=False)
  else:
    monkeypatch.setenv('JAX_PLATFORMS', platforms)
  monkeypatch.setattr(host_malloc.importlib.util, 'find_spec',
                      lambda name: object() if name in plugins else None)
  assert host_malloc.cpu_backend_expected() is expected


@pytest.mark.skipif(not GLIBC_LINUX, reason='glibc tunables: Linux/glibc only')
def test_reexec_sets_tunables_in_the_same_process(tmp_path):
  script = tmp_path / 'probe.py'
  script.write_text(
      'import os, sys\n'
      'print("start", os.getpid(), flush=True)\n'
      'from relgan_jax.stage1 import host_malloc\n'
      'host_malloc.reexec_with_tuned_malloc()\n'
      'print("tuned", host_malloc.is_tuned(), os.getpid(), sys.argv[1:])\n')
  env = dict(os.environ, PYTHONPATH=REPO, GLIBC_TUNABLES='glibc.pthread.rseq=0')
  env.pop('RELGAN_NO_MALLOC_TUNING', None)
  out = subprocess.run([sys.executable, str(script), '--flag=1'], env=env,
                       capture_output=True, text=True, timeout=120, check=True)
  lines = out.stdout.split('\n')
  starts = [line.split()[1] for line in lines if line.startswith('start')]
  assert len(starts) == 2 and starts[0] == starts[1]  # Ran twice, one pid.
  assert f"tuned True {starts[0]} ['--flag=1']" in out.stdout
  # The escape hatch: no re-exec.
  env['RELGAN_NO_MALLOC_TUNING'] = '1'
  out = subprocess.run([sys.executable, str(script)], env=env,
                       capture_output=True, text=True, timeout=120, check=True)
  assert out.stdout.count('start') == 1 and 'tuned False' in out.stdout


@pytest.mark.skipif(not GLIBC_LINUX, reason='glibc mallopt: Linux/glibc only')
def test_tune_in_process_puts_big_blocks_on_the_heap(tmp_path):
  """Untuned, glibc mmaps a 64 MiB block (the heap's top stays where it
  is); after tune_in_process() the same malloc grows the heap by it, and a
  freed block is kept for the next one."""
  script = tmp_path / 'probe.py'
  script.write_text(
      'import ctypes\n'
      'from relgan_jax.stage1 import host_malloc\n'
      'libc = ctypes.CDLL(None)\n'
      'libc.sbrk.restype = ctypes.c_void_p\n'
      'libc.malloc.restype = ctypes.c_void_p\n'
      'libc.free.argtypes = [ctypes.c_void_p]\n'
      'def grows():\n'
      '  top = libc.sbrk(0)\n'
      '  block = libc.malloc(64 << 20)\n'
      '  grown = libc.sbrk(0) - top\n'
      '  libc.free(block)\n'
      '  return grown\n'
      'before = grows()\n'
      'tuned = host_malloc.tune_in_process()\n'
      'first, second = grows(), grows()\n'
      'print(before, tuned, first >= 64 << 20, second)\n')
  env = dict(os.environ, PYTHONPATH=REPO)
  env.pop('RELGAN_NO_MALLOC_TUNING', None)
  env.pop('GLIBC_TUNABLES', None)
  out = subprocess.run([sys.executable, str(script)], env=env,
                       capture_output=True, text=True, timeout=120, check=True)
  assert out.stdout.split() == ['0', 'True', 'True', '0'], out.stdout
  env['RELGAN_NO_MALLOC_TUNING'] = '1'  # The escape hatch.
  out = subprocess.run([sys.executable, str(script)], env=env,
                       capture_output=True, text=True, timeout=120, check=True)
  assert out.stdout.split()[:2] == ['0', 'False'], out.stdout
