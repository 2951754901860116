"""Diagnostic: per-term gradient norms on Ges / Get / Gde at a stage-1 checkpoint,
and how consistent each term's Ges gradient is across batches (cosine of batch grads
with their mean).  usage: grad_parts.py CKPT DATA_DIR"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax
from configs import synthetic as syncfg
from relgan_jax import records, models, input_pipeline, checkpointing, protocol, losses
ckpt, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir; config.data.num_workers = 0
ds = records.PreparedDataset(data_dir); ds.keep_decoded(1 << 30)
idx = protocol.select_records(ds, np.arange(len(ds)), config)
state, meta = checkpointing.load_state_tree(ckpt)
g = models.build_generator(config); d = models.build_discriminator(config, 7, 64)
gp = state['g_params']; dv = {'params': state['d_params']}
L = config.loss
def terms(p, b):
  xs, xt, xtg = (input_pipeline.normalize(b[k]) for k in ('x_s', 'x_t', 'x_tg'))
  xbar = g.apply({'params': p}, xs, xt)
  de, di = d.apply(dv, xbar)
  return {'pix': L.lambda_pix * L.pixel_scale * losses.pixel_loss(xbar, xtg),
          'exp': L.lambda_exp * losses.cross_entropy(de, b['y_e_s']),
          'adv': L.lambda_adv * losses.adversarial_loss(de),
          'id': L.lambda_id * losses.cross_entropy(di, b['y_i_t'])}
@jax.jit
def grads(p, b):
  return {k: jax.grad(lambda q: terms(q, b)[k])(p) for k in ('pix', 'exp', 'adv', 'id')}
it = input_pipeline.stage1_dataset(ds, idx, config, seed=321)
flat = {}
for _ in range(12):
  gr = jax.device_get(grads(gp, next(it)))
  for k, tree in gr.items():
    for part in ('Ges', 'Get', 'Gde'):
      v = np.concatenate([np.ravel(x) for x in jax.tree.leaves(tree[part])])
      flat.setdefault((k, part), []).append(v)
out = {}
for (k, part), vs in flat.items():
  vs = np.stack(vs); m = vs.mean(0)
  norms = np.linalg.norm(vs, axis=1)
  cos = [float(v @ m / (np.linalg.norm(v) * np.linalg.norm(m) + 1e-12)) for v in vs]
  out[f'{part}.{k}'] = dict(norm=round(float(norms.mean()), 2), mean_norm=round(float(np.linalg.norm(m)), 2), cos=round(float(np.mean(cos)), 3))
print(json.dumps({'step': meta['step'], **out}))
