"""Records the weight_grad shapes of the demo's stage-1 iteration and the baseline step, then times each both ways."""
import sys, time, collections
import numpy as np, jax, jax.numpy as jnp, optax
sys.path.insert(0, '.')
from relgan_jax.model import cpu_layers as cl
from configs import synthetic
from benchmarks import stage1_programs
from relgan_jax.evaluation import baseline
from relgan_jax.model import models
seen = collections.Counter()
orig = cl.weight_grad
def rec(x, dy, ks, pad):
  seen[(x.shape, dy.shape, tuple(ks), tuple(map(tuple, pad)))] += 1
  return orig(x, dy, ks, pad)
cl.weight_grad = rec
config = synthetic.get_config()
config.model.num_identities = 128 if 'num_identities' in config.model else None
s = stage1_programs.setup(config, ne=7, ni=128, devices=jax.devices()[:1])
stage1_programs.compile_programs(s, 'iteration')
st = dict(seen); seen.clear()
module = baseline.build_baseline(config, 7)
v = models.init_on_images(module, jax.random.key(0), 64)
p = v['params']; e = {k: w for k, w in v.items() if k != 'params'}
baseline._train_step.lower(p, e, optax.adam(1e-3).init(p), jnp.zeros((64, 64, 64, 3), jnp.uint8), jnp.zeros(64, jnp.int32), module=module, learning_rate=1e-3)
bs = dict(seen)
cl.weight_grad = orig
def wg_xla(x, dy, ks, pad):
  _, vjp = jax.vjp(lambda k: cl.conv_xla(x, k, pad), jnp.zeros(ks, x.dtype))
  return vjp(dy)[0]
rng = np.random.default_rng(0)
for name, shapes in (('stage1', st), ('baseline', bs)):
  tot0 = tot1 = 0
  for (xs, dys, ks, pad), n in sorted(shapes.items(), key=lambda kv: -np.prod(kv[0][0])):
    x = jnp.asarray(rng.standard_normal(xs), jnp.float32); dy = jnp.asarray(rng.standard_normal(dys), jnp.float32)
    f0 = jax.jit(lambda x, dy: orig(x, dy, ks, pad)); f1 = jax.jit(lambda x, dy: wg_xla(x, dy, ks, pad))
    res = []
    for f in (f0, f1, f0, f1, f0, f1):
      f(x, dy).block_until_ready(); t = time.perf_counter()
      for _ in range(10): r = f(x, dy)
      r.block_until_ready(); res.append((time.perf_counter() - t) / 10 * 1e3)
    a, b = min(res[0::2]), min(res[1::2])
    tot0 += n * a; tot1 += n * min(a, b)
    print(f'{name} x{xs} dy{dys} k{ks[:2]} x{n}: now {a:.2f} ms, xla {b:.2f} ms {"<==" if b < 0.8 * a else ""}', flush=True)
  print(name, f'sum now {tot0:.1f} ms, best-of {tot1:.1f} ms')
