"""Gde's sensitivity to f(e) vs f(i) along stage 1. usage: jac.py RUNDIR [f_e_norm]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.model import models
from relgan_jax.data import records, loading, input_pipeline
config = syncfg.get_config()
for kv in sys.argv[2:]:
  k, val = kv.split('='); sec, f = k.split('.'); config[sec][f] = val
run = sys.argv[1]
ev = records.PreparedDataset('/work/exp/eval')
idx = loading.select_records(ev, np.arange(len(ev)), config)
rng = np.random.default_rng(0)
pick = rng.choice(idx, 256, replace=False)
crops = input_pipeline.centre_crops(ev, pick, config)
x = input_pipeline.normalize(jnp.asarray(crops))
g = models.build_generator(config)
for step in sorted(os.listdir(os.path.join(run, 'checkpoints')), key=int):
  state, _ = checkpointing.load_state_tree(os.path.join(run, 'checkpoints', step))
  v = gan_steps.g_variables(state)
  fe = g.apply(v, x, method=g.encode_expression)
  fi = g.apply(v, x, method=g.encode_identity)
  # f(e) principal directions and their std over faces
  c = np.asarray(fe - fe.mean(0)); u, s, vt = np.linalg.svd(c, full_matrices=False)
  sd = s / np.sqrt(len(c))
  ci = np.asarray(fi - fi.mean(0)); ui, si, vti = np.linalg.svd(ci, full_matrices=False)
  sdi = si / np.sqrt(len(ci))
  def dec(fe_, fi_): return g.apply(v, fe_, fi_, method=g.decode)
  # x_bar change (mean abs over pixels) when moving f(e) by one std along its PC k, for 32 pairs
  n = 32; fe_s = fe[:n]; fi_t = fi[n:2*n]
  base = dec(fe_s, fi_t)
  def move_e(k): return float(jnp.abs(dec(fe_s + sd[k] * vt[k], fi_t) - base).mean())
  def move_i(k): return float(jnp.abs(dec(fe_s, fi_t + sdi[k] * vti[k]) - base).mean())
  # swap f(e) between sources / f(i) between targets
  swap_e = float(jnp.abs(dec(fe[2*n:3*n], fi_t) - base).mean())
  swap_i = float(jnp.abs(dec(fe_s, fi[2*n:3*n]) - base).mean())
  print(json.dumps(dict(step=int(step), fe_sd=[round(float(a), 3) for a in sd[:4]],
    move_e=[round(move_e(k), 4) for k in range(4)], move_i=[round(move_i(k), 4) for k in range(4)],
    swap_e=round(swap_e, 4), swap_i=round(swap_i, 4))), flush=True)
