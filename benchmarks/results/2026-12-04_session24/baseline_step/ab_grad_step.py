"""Interleaved A/B of the baseline grad step: variants given as
NAME=ENV:VAL,ENV:VAL (trace-time env)."""
import os, sys, time, jax, jax.numpy as jnp, optax, numpy as np
sys.path.insert(0, '.')
from configs import synthetic
from relgan_jax.evaluation import baseline
from relgan_jax.data import input_pipeline
cfg = synthetic.get_config()
B = int(os.environ.get('B', 64))
m = baseline.build_baseline(cfg, 7)
v = m.init(jax.random.key(0), jnp.zeros((1, 64, 64, 3)), train=False)
def loss(p, x, y):
  lo = m.apply({'params': p}, input_pipeline.normalize(x), train=True)
  return optax.softmax_cross_entropy_with_integer_labels(lo, y).mean()
x = jax.random.randint(jax.random.key(1), (B, 64, 64, 3), 0, 255).astype(jnp.uint8); y = jnp.zeros((B,), jnp.int32)
cs = {}
for arg in sys.argv[1:]:
  name, _, envs = arg.partition('=')
  for kv in filter(None, envs.split(',')):
    k, _, val = kv.partition(':'); os.environ[k] = val
  cs[name] = jax.jit(jax.grad(loss)).lower(v['params'], x, y).compile()
  for kv in filter(None, envs.split(',')):
    del os.environ[kv.partition(':')[0]]
  r = cs[name](v['params'], x, y); jax.block_until_ready(r)
first = next(iter(cs)); ref = cs[first](v['params'], x, y)
for c in cs:
  print(c, 'max |diff| vs', first, max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(cs[c](v['params'], x, y)))))
ts = {c: [] for c in cs}
for _ in range(15):
  for c in cs:
    t = time.perf_counter(); r = cs[c](v['params'], x, y); jax.block_until_ready(r); ts[c].append(time.perf_counter() - t)
for c in cs:
  print(c, 'median %.1f ms' % (np.median(ts[c]) * 1e3))
