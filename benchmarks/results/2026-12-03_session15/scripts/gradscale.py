"""Gradient norms w.r.t. x_bar of each L_G term at a trained checkpoint (session 15)."""
import os, sys, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.model import models, losses
from relgan_jax.data import records, input_pipeline
workdir = sys.argv[1]
config = syncfg.get_config(); config.data.dir = '/work/exp/pre'
ds = records.PreparedDataset('/work/exp/pre')
ck = os.path.join(workdir, 'checkpoints'); last = max((d for d in os.listdir(ck) if d.isdigit()), key=int)
state, meta = checkpointing.load_state_tree(os.path.join(ck, last))
g = models.build_generator(config); d = models.build_discriminator(config, meta['num_expressions'], meta['num_identities'])
idx = np.arange(len(ds))
from relgan_jax.data import loading
idx = loading.select_records(ds, idx, config)
print(len(idx))
it = input_pipeline.stage1_dataset(ds, idx, config, seed=int(os.environ.get("SEED", 5)), shard_index=0, shard_count=1)
L = config.loss
out = {}
for k in range(4):
  b = next(it)
  xs, xt, xtg = (input_pipeline.normalize(jnp.asarray(b[n])) for n in ('x_s', 'x_t', 'x_tg'))
  xbar = g.apply(gan_steps.g_variables(state), xs, xt)
  dp = {'params': state['d_params']}
  ye, yi = jnp.asarray(b['y_e_s']), jnp.asarray(b['y_i_t'])
  _, _, hr = d.apply(dp, xtg, return_hidden=True)
  terms = {
    'pix': lambda x: L.lambda_pix * L.pixel_scale * losses.pixel_loss(x, xtg),
    'exp': lambda x: L.lambda_exp * losses.cross_entropy(d.apply(dp, x)[0], ye),
    'id': lambda x: L.lambda_id * losses.cross_entropy(d.apply(dp, x)[1], yi),
    'adv': lambda x: L.lambda_adv * losses.adversarial_loss(d.apply(dp, x)[0]),
    'fm1': lambda x: losses.feature_matching(d.apply(dp, x, return_hidden=True)[2], hr),
  }
  for n, f in terms.items():
    v, gr = jax.value_and_grad(f)(xbar)
    out.setdefault(n, []).append((float(v), float(jnp.linalg.norm(gr))))
  # per-layer fm grads
  for l in range(9):
    f = lambda x: jnp.mean(jnp.abs(d.apply(dp, x, return_hidden=True)[2][l] - hr[l]))
    v, gr = jax.value_and_grad(f)(xbar)
    out.setdefault(f'fm_l{l}', []).append((float(v), float(jnp.linalg.norm(gr))))
print('step', last)
for n, vals in out.items():
  a = np.array(vals); print(f'{n:6s} value {a[:,0].mean():9.4f}  |grad x_bar| {a[:,1].mean():9.4f}')
