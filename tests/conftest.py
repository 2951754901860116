"""Test-wide setup: two host CPU devices, fast compiles, parsed absl flags."""

import os

# Must be set before JAX initialises its backends: every test process sees two
# CPU devices, so the multi-device tests can build a 2-device `data` mesh while
# single-device tests use `jax.devices()[:1]`.
os.environ['XLA_FLAGS'] = (
    os.environ.get('XLA_FLAGS', '') + ' --xla_force_host_platform_device_count=2'
)
os.environ.setdefault('JAX_PLATFORMS', 'cpu')

from absl import flags  # noqa: E402
import jax  # noqa: E402

# grain's mp_prefetch workers read absl flags; tests do not go through app.run.
if not flags.FLAGS.is_parsed():
  flags.FLAGS.mark_as_parsed()

jax.config.update('jax_disable_most_optimizations', True)
