# Throw-away pytest plugin (session 18): per-test count and seconds of XLA compilations, tracing and lowering
# in the test process, from jax.monitoring. usage: PYTHONPATH=DIR_OF_THIS pytest -p compile_counter ...
import os, time, json, jax, pytest
_state = {'n': 0, 'secs': 0.0, 'trace': 0.0, 'lower': 0.0}
def _l(e, d, **k):
  if e.endswith('backend_compile_duration'): _state['n'] += 1; _state['secs'] += d
  elif e.endswith('jaxpr_trace_duration'): _state['trace'] += d
  elif e.endswith('jaxpr_to_mlir_module_duration'): _state['lower'] += d
jax.monitoring.register_event_duration_secs_listener(_l)
OUT = os.environ.get('S18_COUNTS', '/work/exp/s18/counts.jsonl')
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
  before = dict(_state); t = time.time()
  yield
  rec = {k: round(_state[k] - before[k], 2) for k in _state}
  rec.update(test=item.nodeid, wall=round(time.time() - t, 2))
  with open(OUT, 'a') as f: f.write(json.dumps(rec) + '\n')
