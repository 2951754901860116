"""glibc malloc settings that let XLA:CPU reuse its large buffers.

Every execution of a jitted program on the CPU backend allocates its outputs
and temporaries with malloc and frees them afterwards. With glibc's defaults,
blocks of 32 MiB and more (a 16 x 96 x 96 x 64 float32 activation is 38 MiB)
are mmap-ed fresh on every execution and returned afterwards, so each step
pays a page fault for every 4 KiB page it touches. Measured on a 2-core Xeon
VM: an elementwise op on 64 MiB ran at 4.5 GB/s instead of 10 GB/s (16k page
faults per call), and building im2col patches took 2-4x longer. With the
settings below (big blocks from one heap that keeps freed memory, backed by
transparent huge pages) the same calls take a few dozen faults.

The settings are glibc tunables, read once at process start, so they can only
take effect by re-executing the process: `reexec_with_tuned_malloc()` does
that, as the first thing a CPU entry point runs (`python -m relgan_jax.main`
does it when `cpu_backend_expected()`; the benchmarks always on CPU). Other
platforms and other C libraries ignore them. A process that cannot start over
(a notebook's kernel) calls `tune_in_process()` instead: glibc's mallopt()
sets the same limits for what is allocated from then on, but for huge pages
(a tunable only) and with the trim threshold capped at a C int (2 GiB).
"""

import ctypes
import importlib.util
import os
import platform
import sys
from typing import Optional, Sequence

# hugetlb=1: transparent huge pages for malloc'd memory (2 MiB faults);
# mmap_max=0: big blocks come from the heap, not from fresh mmaps;
# trim_threshold: freed memory stays in the process (64 GiB before trimming);
# arena_max=1: one heap, so a buffer freed by one thread is reused by another.
TUNABLES = ('glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:'
            'glibc.malloc.trim_threshold=68719476736:glibc.malloc.arena_max=1')
_ENV = 'GLIBC_TUNABLES'

# Modules whose presence means JAX may pick an accelerator backend (CUDA and
# ROCm plugins live in the jax_plugins namespace package or as jax_*_plugin).
_ACCELERATOR_MODULES = ('jax_plugins', 'jax_cuda12_plugin',
                        'jax_cuda13_plugin', 'jax_rocm60_plugin',
                        'jax_rocm7_plugin', 'libtpu')


def cpu_backend_expected() -> bool:
  """Whether JAX will run on its CPU backend, decided without initialising
  JAX (which must not happen before `jax.distributed.initialize`): JAX_PLATFORMS
  names cpu first, or it is unset and no GPU/TPU plugin is installed."""
  platforms = os.environ.get('JAX_PLATFORMS', '').strip().lower()
  if platforms:
    return platforms.split(',')[0] == 'cpu'
  return not any(importlib.util.find_spec(name) is not None
                 for name in _ACCELERATOR_MODULES)


def is_tuned() -> bool:
  """True if this process was started with TUNABLES in GLIBC_TUNABLES."""
  return TUNABLES in os.environ.get(_ENV, '')


def _tuning_applies() -> bool:
  """False when the process is tuned already, RELGAN_NO_MALLOC_TUNING is
  set (an escape hatch), or the C library is not glibc on Linux."""
  return not (is_tuned() or os.environ.get('RELGAN_NO_MALLOC_TUNING')
              or sys.platform != 'linux' or platform.libc_ver()[0] != 'glibc')


def reexec_with_tuned_malloc(argv: Optional[Sequence[str]] = None) -> None:
  """Re-executes this Python process with TUNABLES set, unless already set.

  Returns without doing anything when the process is already tuned, when not
  on Linux/glibc, or when RELGAN_NO_MALLOC_TUNING is set (an escape hatch).
  Call it before any expensive work: the process starts over.

  Args:
    argv: the command line to run again; default: this process's, as
      `python -m <module>` when it was started with -m.
  """
  if not _tuning_applies():
    return
  env = dict(os.environ)
  env[_ENV] = ':'.join(filter(None, [env.get(_ENV, ''), TUNABLES]))
  if argv is None:
    main = sys.modules.get('__main__')
    spec = getattr(main, '__spec__', None)
    if spec is not None and spec.name:
      argv = [sys.executable, '-m', spec.name.removesuffix('.__main__'),
              *sys.argv[1:]]
    else:
      argv = [sys.executable, *sys.argv]
  sys.stdout.flush()
  sys.stderr.flush()
  os.execve(sys.executable, list(argv), env)


# mallopt() parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8


def tune_in_process() -> bool:
  """Sets TUNABLES' limits in this running process through mallopt(), but
  for huge pages: big blocks from the heap, freed memory kept (up to 2 GiB
  above the heap's top), one heap. For processes that cannot re-execute,
  e.g. a notebook's kernel: call it before the first training step.

  Returns True if glibc accepted every setting; False (nothing done) when
  not on Linux/glibc, when the process is already tuned, or when
  RELGAN_NO_MALLOC_TUNING is set.
  """
  if not _tuning_applies():
    return False
  libc = ctypes.CDLL(None)
  settings = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, 2**31 - 1),
              (_M_ARENA_MAX, 1))
  return all(libc.mallopt(param, value) == 1 for param, value in settings)
