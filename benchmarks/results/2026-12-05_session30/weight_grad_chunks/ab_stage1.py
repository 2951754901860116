"""Interleaved A/B of the stage-1 iteration at the demo's shape (configs/synthetic.py
as given) at several cpu_layers.WEIGHT_GRAD_CHUNK_ELEMENTS limits."""
import sys, time, json
import jax, numpy as np
from configs import synthetic
from relgan_jax.model import cpu_layers
from benchmarks import stage1_programs
cfg = synthetic.get_config()
limits = [int(a) for a in sys.argv[1:]]
cs = {}
for lim in limits:
  cpu_layers.WEIGHT_GRAD_CHUNK_ELEMENTS = lim
  st = stage1_programs.setup(cfg, ne=7, ni=64, devices=jax.devices()[:1])
  (ex,) = stage1_programs.compile_programs(st, 'iteration')
  cs[lim] = (ex, st)
ts = {c: [] for c in cs}
states = {c: cs[c][1].state for c in cs}
for r in range(12):
  for c in cs:
    ex, st = cs[c]
    t = time.perf_counter(); states[c], _ = ex(states[c], st.batch); jax.block_until_ready(states[c]); dt = time.perf_counter() - t
    if r: ts[c].append(dt)
for c in cs:
  print(json.dumps({'limit': c, 'median_ms': round(float(np.median(ts[c])) * 1e3, 1), 'min_ms': round(min(ts[c]) * 1e3, 1)}))
