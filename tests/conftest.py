"""Test-wide setup: two host CPU devices, fast compiles, parsed absl flags."""

import os
import shutil
import subprocess
import sys
import tempfile

from relgan_jax.stage1 import host_malloc  # Imports no JAX.

# XLA:CPU compiles the tiny test programs about twice as fast with its older
# loop-fusion code generator (measured on 2 cores: the tiny stage-1 iteration
# 14 -> 7 s, the G step 10.5 -> 5 s): the same HLO, run by other generated
# code. The test run only; training keeps XLA's default. Decided once per run
# (xdist workers and command lines started by tests inherit it), and only if
# this jaxlib knows the flag: XLA aborts on unknown XLA_FLAGS.
_FAST_COMPILE = '--xla_cpu_use_fusion_emitters=false'
if 'RELGAN_TEST_XLA_FLAGS' not in os.environ:
  _known = subprocess.run(
      [sys.executable, '-c', 'import jax; jax.devices()'],
      env=dict(os.environ, XLA_FLAGS=_FAST_COMPILE, JAX_PLATFORMS='cpu'),
      capture_output=True, check=False).returncode == 0
  os.environ['RELGAN_TEST_XLA_FLAGS'] = _FAST_COMPILE if _known else ''

# Must be set before JAX initialises its backends: every test process sees two
# CPU devices, so the multi-device tests can build a 2-device `data` mesh while
# single-device tests use `jax.devices()[:1]`.
# Added once: pytest-xdist's workers inherit the controller's environment, and
# a flag written twice would give their programs other persistent-cache keys
# (JAX hashes XLA_FLAGS word by word) than the same programs compiled by the
# command lines that tests start (tests/cli_runs.py), which then could not
# share them.
_xla_flags = os.environ.get('XLA_FLAGS', '').split()
for _flag in ('--xla_force_host_platform_device_count=2',
              *os.environ['RELGAN_TEST_XLA_FLAGS'].split()):
  if _flag not in _xla_flags:
    _xla_flags.append(_flag)
os.environ['XLA_FLAGS'] = ' '.join(_xla_flags)
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
# Command lines started by tests run with the tuned malloc from the start:
# `python -m relgan_jax.main` would otherwise re-execute itself to get it
# (relgan_jax/stage1/host_malloc.py; the re-execution is tested in
# tests/test_host_malloc.py), paying Python's start-up and imports twice.
if not host_malloc.is_tuned():
  os.environ['GLIBC_TUNABLES'] = ':'.join(
      t for t in (os.environ.get('GLIBC_TUNABLES'), host_malloc.TUNABLES) if t)
# Tiny programs, compiled once and run a few times: compile time dominates.
# In the environment, so that every process a test starts (command lines, the
# notebook's kernel) compiles the same way.
os.environ['JAX_DISABLE_MOST_OPTIMIZATIONS'] = '1'

# One persistent compilation cache for the whole test run: the test
# processes (pytest-xdist workers inherit the controller's environment) and
# every command line they start compile the same tiny programs again and
# again; each is compiled once. Removed when the run ends.
_OWN_CACHE = 'RELGAN_TEST_COMPILE_CACHE' not in os.environ
if _OWN_CACHE:
  os.environ['RELGAN_TEST_COMPILE_CACHE'] = tempfile.mkdtemp(
      prefix='relgan_jax_cache_')
COMPILE_CACHE = os.environ['RELGAN_TEST_COMPILE_CACHE']
os.environ.update(JAX_COMPILATION_CACHE_DIR=COMPILE_CACHE,
                  JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS='0',
                  JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES='0')

from absl import flags  # noqa: E402
import pytest  # noqa: E402

from relgan_jax.data import synthetic_set  # noqa: E402

# grain's mp_prefetch workers read absl flags; tests do not go through app.run.
if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()


def pytest_sessionfinish(session, exitstatus):
  del session, exitstatus
  if _OWN_CACHE:  # The controller (or a run without xdist) made it.
    shutil.rmtree(COMPILE_CACHE, ignore_errors=True)


# The longest tests first (each a chain of command lines or a trained run,
# 30-90 s on 2 cores), so that pytest-xdist's workers start on them while
# the many short tests fill the gaps: a shorter run than alphabetical order,
# which leaves one worker alone on a long test at the end. Within a module the
# order is unchanged.
_LONGEST_FIRST = ('test_resume.py', 'test_multihost.py', 'test_protocol.py',
                  'test_user_errors.py', 'test_user_errors_prep.py',
                  'test_train_loop.py', 'test_gan_steps.py',
                  'test_notebook.py', 'test_config_checks.py')


def pytest_collection_modifyitems(session, config, items):
  del session, config
  rank = {name: i for i, name in enumerate(_LONGEST_FIRST)}
  items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(scope='session')
def data_dir(tmp_path_factory):
  """A tiny synthetic prepared set (4 people, 37-px faces, 2 folds), made
  once per test process and shared: tests read it, never write into it (a
  test that corrupts records copies it first)."""
  out = str(tmp_path_factory.mktemp('tiny_synthetic') / 'synthetic')
  synthetic_set.generate(out, num_identities=4, size=37, num_folds=2,
                         neutral_images=2, images_per_intensity=1, workers=1)
  return out
