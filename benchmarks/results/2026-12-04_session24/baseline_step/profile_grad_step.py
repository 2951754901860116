"""Time the baseline's host augmentation vs its train step (demo config)."""
import time, sys, numpy as np, jax, jax.numpy as jnp
sys.path.insert(0, '.')
from configs import synthetic
from relgan_jax.data import loading
from relgan_jax.evaluation import baseline
cfg = synthetic.get_config()
ds = loading.open_prepared('data/synthetic', cfg)
idx = np.arange(896)
gen = baseline.augmented_batches(ds, idx, cfg, batch_size=64, seed=0)
next(gen)
t = time.perf_counter()
for _ in range(20): imgs, labels = next(gen)
print('augment per batch of 64: %.1f ms' % ((time.perf_counter() - t) / 20 * 1e3))
import functools, optax
from relgan_jax.data import input_pipeline
m = baseline.build_baseline(cfg, 7)
v = m.init(jax.random.key(0), jnp.zeros((1, 64, 64, 3)), train=False)
def loss(p, x, y):
  lo = m.apply({'params': p}, input_pipeline.normalize(x), train=True)
  return optax.softmax_cross_entropy_with_integer_labels(lo, y).mean()
g = jax.jit(jax.grad(loss))
x = jnp.zeros((64, 64, 64, 3), jnp.uint8); y = jnp.zeros((64,), jnp.int32)
c = g.lower(v['params'], x, y).compile()
print('flops', c.cost_analysis().get('flops') if isinstance(c.cost_analysis(), dict) else c.cost_analysis()[0].get('flops'))
r = c(v['params'], x, y); jax.block_until_ready(r)
t = time.perf_counter()
for _ in range(10): r = c(v['params'], x, y); jax.block_until_ready(r)
print('grad step %.1f ms' % ((time.perf_counter() - t) / 10 * 1e3))
import collections, os
from absl import flags
from benchmarks import profile_step as ps
flags.FLAGS(['x', '--runs=5'])
d = '/tmp/base_prof'
os.makedirs(d, exist_ok=True)
index = ps._hlo_index(c.as_text())
jax.profiler.start_trace(d)
for _ in range(5): r = c(v['params'], x, y); jax.block_until_ready(r)
jax.profiler.stop_trace()
times, _ = ps._op_times(d, 5, index)
times = {k: t for k, t in times.items() if k in index}
kinds = collections.defaultdict(float)
for op, ms in times.items(): kinds[index[op][2]] += ms
print('total op ms', sum(times.values()))
for k, ms in sorted(kinds.items(), key=lambda kv: -kv[1])[:10]: print('%7.1f %s' % (ms, k))
for op, ms in sorted(times.items(), key=lambda kv: -kv[1])[:25]:
  print('%7.1f %-22s %-30s %s' % (ms, index[op][2][:22], index[op][0][:30], index[op][1][-70:]))
