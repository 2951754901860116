"""Interleaved, in-process decomposition of the loop-vs-bench gap.

Modes, each a block of STEPS iterations of the demo's own `iteration` program
(same compiled program, same state carried on), rotated ROUNDS times so that the
box's drift hits every mode alike:
  bench:  fixed device batch, block each step (what bench_step times)
  async:  fixed device batch, no block, previous step's metrics fetched (loop w/o input)
  loop:   next(train_iter) + shard_batch + iteration + previous metrics (the loop body)
  serial: loop, but block each step before the next batch (no overlap)
"""
import statistics, sys, time, json, os
import jax, numpy as np, ml_collections
sys.argv = sys.argv[:1]
from configs import synthetic
from relgan_jax.data import input_pipeline, records
from relgan_jax.stage1 import train, gan_steps
from relgan_jax.model import models

STEPS = int(os.environ.get('STEPS', 40)); ROUNDS = int(os.environ.get('ROUNDS', 6))
MODES = os.environ.get('MODES', 'bench,loop_rt2,loop_rt1,loop_rt1_memo').split(',')
config = synthetic.get_config()
for kv in os.environ.get('OVERRIDES', '').split():
  k, v = kv.split('='); sec, f = k.split('.'); config[sec][f] = type(config[sec][f])(eval(v))
from relgan_jax.data import loading
ds = loading.open_prepared('data/synthetic_pretrain', config)
idx = np.arange(len(ds))
print('data fields', dict(config.data), flush=True)
mesh = gan_steps.make_mesh()
ne = len(ds.manifest['expression_classes']); idm = input_pipeline.identity_map(ds, idx)
g = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
d = models.build_discriminator(config, ne, max(1, len(idm)))
total = train.num_train_steps(config, len(idx))
progs = train._stage1_programs(g, d, None, gan_steps.optimizer_hparams(config),
    ml_collections.FrozenConfigDict(config.loss), mesh, total, float(config.train.g_ema_decay))
state = progs.init(jax.random.PRNGKey(0))
import grain
from relgan_jax.data import augment
class Memo(input_pipeline._Triplets):
  cache = {}
  def __call__(self, k, _):
    epoch, position, s = self.sources(k)
    rng = np.random.default_rng([self.seed, epoch, position, 7])
    t, tg = self.table.sample(s, rng)
    geo_s, geo_t = self._geometry(rng), self._geometry(rng)
    ds = self.dataset
    def ap(i, geo):
      key = (i, geo.place, geo.angle)
      c = self.cache.get(key)
      if c is None:
        c = augment.apply(ds[i]['image'], augment.Geometry(geo.place, geo.angle, False), self.size, self.side)
        self.cache[key] = c
      return np.ascontiguousarray(c[:, ::-1]) if geo.flip else c
    images = {'x_s': ap(s, geo_s), 'x_t': ap(t, geo_t), 'x_tg': ap(tg, geo_t)}
    labels = {
        'y_e_s': self.table.expression(s),
        'y_i_s': self.id_label[self.table.identity_key(s)],
        'y_e_t': self.table.expression(t),
        'y_i_t': self.id_label[self.table.identity_key(t)],
    }
    return images | {k_: np.int32(v) for k_, v in labels.items()}
def make(th, cls):
  tr = cls(ds, idx, config, 0, 0, 1, False)
  d2 = grain.MapDataset.range(tr.per_shard).repeat().map_with_index(tr).batch(config.train.batch_size, drop_remainder=True)
  return iter(d2.to_iter_dataset(grain.ReadOptions(num_threads=th, prefetch_buffer_size=2)))
its = {'loop_rt2': make(2, input_pipeline._Triplets), 'loop_rt1': make(1, input_pipeline._Triplets), 'loop_rt1_memo': make(1, Memo)}
it = its['loop_rt2']
# check equality of memo stream
a = make(1, input_pipeline._Triplets); b = make(1, Memo)
for _ in range(300):
  x, y = next(a), next(b)
  assert all(np.array_equal(x[k], y[k]) for k in x), 'memo differs'
print('memo stream equal over 300 batches; cache entries', len(Memo.cache), flush=True)
fixed = gan_steps.shard_batch(next(it), mesh)
iteration = progs.steps.iteration
for _ in range(3):
  state, m = iteration(state, fixed); jax.block_until_ready(state)
# warm the pipeline's decode cache: a pass over the data
for _it in its.values():
  for _ in range(len(idx) // config.train.batch_size + 2): next(_it)

def block(mode, state):
  pending = None
  t0 = time.perf_counter(); c0 = time.process_time()
  for _ in range(STEPS):
    if mode.startswith('loop') or mode == 'serial':
      b = gan_steps.shard_batch(next(its[mode]), mesh)
    else:
      b = fixed
    state, m = iteration(state, b)
    if mode in ('bench', 'serial'):
      jax.block_until_ready(state)
    if pending is not None: jax.device_get(pending)
    pending = m
  jax.device_get(pending); jax.block_until_ready(state)
  return state, (time.perf_counter() - t0) / STEPS * 1e3, (time.process_time() - c0) / STEPS * 1e3

res = {m: [] for m in MODES}; cpu = {m: [] for m in MODES}
for r in range(ROUNDS):
  order = MODES[r % len(MODES):] + MODES[:r % len(MODES)]
  for mode in order:
    state, ms, cms = block(mode, state)
    res[mode].append(ms); cpu[mode].append(cms)
  print(r, {m: round(res[m][-1], 1) for m in MODES}, flush=True)
it = its['loop_rt2']
# pipeline alone
t0 = time.perf_counter(); c0 = time.process_time()
for _ in range(100): next(it)
pipe = ((time.perf_counter() - t0) * 10, (time.process_time() - c0) * 10)
out = {m: {'median_ms': round(statistics.median(res[m]), 1), 'blocks': [round(x, 1) for x in res[m]],
           'cpu_ms_per_step': round(statistics.median(cpu[m]), 1)} for m in MODES}
out['pipeline_alone_ms_per_batch'] = {'wall': round(pipe[0], 2), 'cpu': round(pipe[1], 2)}
b = out['bench']['median_ms'] if 'bench' in out else None
for m in MODES:
  if b: out[m]['ratio_to_bench'] = round(b / out[m]['median_ms'], 3)
print(json.dumps(out, indent=1))
