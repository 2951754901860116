"""Diagnostic: train D alone on real faces (De on x_s, Di on x_t), no G.
How fast does De learn expressions, and what slows it?  usage: d_only.py NAME key=val ..."""
import sys, os, json, time
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp, optax
from configs import synthetic as syncfg
from relgan_jax import records, models, input_pipeline, losses
name = sys.argv[1]
opts = dict(kv.split('=') for kv in sys.argv[2:])
config = syncfg.get_config()
config.data.dir = '/work/exp/pre'
config.data.num_workers = 0
lr = float(opts.get('lr', 3e-4)); b1 = float(opts.get('b1', 0.5)); lam_id = float(opts.get('lam_id', 30))
if 'd_norm' in opts: config.model.d_norm = opts['d_norm']
if 'd_width' in opts: config.model.d_width = float(opts['d_width'])
steps = int(opts.get('steps', 1500))
ds = records.PreparedDataset('/work/exp/pre')
ds.keep_decoded(1 << 30)
idx = np.arange(len(ds))
from relgan_jax import protocol
idx = protocol.select_records(ds, idx, config)
print(len(idx))
it = input_pipeline.stage1_dataset(ds, idx, config, seed=0)
d = models.build_discriminator(config, 7, 64)
params = d.init(jax.random.PRNGKey(1), jnp.zeros((1, 64, 64, 3)))['params']
tx = optax.adam(lr, b1=b1, b2=0.999)
opt = tx.init(params)
def loss_fn(p, xs, xt, ye, yi):
  de, _ = d.apply({'params': p}, xs)
  _, di = d.apply({'params': p}, xt)
  l = 50 * losses.cross_entropy(de, ye) + lam_id * losses.cross_entropy(di, yi)
  return l, losses.accuracy(de[:, :-1], ye)
@jax.jit
def step(p, o, b):
  xs = input_pipeline.normalize(b['x_s']); xt = input_pipeline.normalize(b['x_t'])
  (l, acc), g = jax.value_and_grad(loss_fn, has_aux=True)(p, xs, xt, b['y_e_s'], b['y_i_t'])
  u, o = tx.update(g, o, p)
  return optax.apply_updates(p, u), o, acc
accs = []; curve = {}
t0 = time.time()
for s in range(1, steps + 1):
  b = next(it)
  params, opt, acc = step(params, opt, b)
  accs.append(float(acc))
  if s % 100 == 0:
    curve[s] = round(float(np.mean(accs[-100:])), 3)
print(json.dumps({'name': name, 'opts': opts, 'curve': curve, 'secs': round(time.time() - t0)}))
