"""Interleaved A/B of the CNN baseline's gradient step (demo shape, B64 64x64
width 0.25) at several cpu_layers.WEIGHT_GRAD_CHUNK_ELEMENTS limits."""
import sys, time, json
import jax, jax.numpy as jnp, numpy as np, optax
from configs import synthetic
from relgan_jax.model import cpu_layers, models
from relgan_jax.data import input_pipeline
cfg = synthetic.get_config()
B = 64
m = models.build_classifier(cfg, 7)
v = m.init(jax.random.key(0), jnp.zeros((1, 64, 64, 3)), train=False)
def loss(p, x, y):
  lo = m.apply({'params': p}, input_pipeline.normalize(x), train=True)
  return optax.softmax_cross_entropy_with_integer_labels(lo, y).mean()
x = jax.random.randint(jax.random.key(1), (B, 64, 64, 3), 0, 255).astype(jnp.uint8)
y = jnp.arange(B, dtype=jnp.int32) % 7
limits = [int(a) for a in sys.argv[1:]]
cs = {}
for lim in limits:
  cpu_layers.WEIGHT_GRAD_CHUNK_ELEMENTS = lim
  cs[lim] = jax.jit(jax.grad(loss)).lower(v['params'], x, y).compile()
  jax.block_until_ready(cs[lim](v['params'], x, y))
ref = cs[limits[0]](v['params'], x, y)
for c in cs:
  d = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(jax.tree.leaves(ref), jax.tree.leaves(cs[c](v['params'], x, y))))
  print(c, 'max |diff| vs', limits[0], d)
ts = {c: [] for c in cs}
for _ in range(15):
  for c in cs:
    t = time.perf_counter(); jax.block_until_ready(cs[c](v['params'], x, y)); ts[c].append(time.perf_counter() - t)
for c in cs:
  print(json.dumps({'limit': c, 'median_ms': round(float(np.median(ts[c])) * 1e3, 1), 'min_ms': round(min(ts[c]) * 1e3, 1)}))
