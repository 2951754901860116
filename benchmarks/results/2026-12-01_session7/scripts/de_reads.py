"""Diagnostic: at a stage-1 checkpoint, which expression does De read in x_bar?
usage: de_reads.py CKPT_DIR DATA_DIR"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax import records, models, input_pipeline, checkpointing, gan_steps, protocol
ckpt, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir; config.data.num_workers = 0
ds = records.PreparedDataset(data_dir); ds.keep_decoded(1 << 30)
idx = protocol.select_records(ds, np.arange(len(ds)), config)
state, meta = checkpointing.load_state_tree(ckpt)
g = models.build_generator(config); d = models.build_discriminator(config, 7, 64)
gv = gan_steps.g_variables(state); dv = {'params': state['d_params']}
@jax.jit
def f(b):
  xs, xt, xtg = (input_pipeline.normalize(b[k]) for k in ('x_s', 'x_t', 'x_tg'))
  xbar = g.apply(gv, xs, xt)
  # x_bar with a shuffled f(e): does Gde's output depend on f(e)?
  fe = g.apply(gv, xs, method=g.encode_expression); fi = g.apply(gv, xt, method=g.encode_identity)
  xbar_perm = g.apply(gv, jnp.roll(fe, 1, axis=0), fi, method=g.decode)
  out = {}
  for name, x in (('xbar', xbar), ('x_tg', xtg), ('x_t', xt), ('x_s', xs)):
    de, _ = d.apply(dv, x)
    out[name] = jnp.argmax(de[:, :-1], -1); out[name + '_fake'] = jnp.argmax(de, -1) == 7
  out['fe_effect'] = jnp.mean(jnp.abs(xbar - xbar_perm)); out['pix'] = jnp.mean(jnp.abs(xbar - xtg))
  out['xt_vs_xtg'] = jnp.mean(jnp.abs(xt - xtg))
  return out
it = input_pipeline.stage1_dataset(ds, idx, config, seed=123)
acc = {}
for _ in range(40):
  b = next(it); o = jax.device_get(f(b))
  for name in ('xbar', 'x_tg', 'x_t', 'x_s'):
    acc.setdefault(name + ' reads y_s', []).append(np.mean(o[name] == b['y_e_s']))
    acc.setdefault(name + ' reads y_t', []).append(np.mean(o[name] == b['y_e_t']))
    acc.setdefault(name + ' called fake', []).append(np.mean(o[name + '_fake']))
  for k in ('fe_effect', 'pix', 'xt_vs_xtg'):
    acc.setdefault(k, []).append(float(o[k]))
print(json.dumps({'step': meta['step'], **{k: round(float(np.mean(v)), 3) for k, v in acc.items()}}))
