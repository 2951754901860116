"""Which compilations a piece of code runs, as jax.monitoring reports them."""

import contextlib

import jax


@contextlib.contextmanager
def compile_events(log: list):
  """Appends to `log` the name of every compilation event (tracing, lowering,
  XLA's compile: jax.monitoring durations named '.../compile...') reported
  inside the block, by any thread."""

  def listener(event, duration_secs, **kwargs):
    del duration_secs, kwargs
    if 'compile' in event:
      log.append(event)

  jax.monitoring.register_event_duration_secs_listener(listener)
  try:
    yield log
  finally:
    jax.monitoring.unregister_event_duration_listener(listener)
