"""Singular values of Gde's Jacobian wrt f(e) (unit input directions), vs f(e)'s own spread.
usage: jrank.py RUNDIR"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.model import models
from relgan_jax.data import records, loading, input_pipeline
config = syncfg.get_config(); config.model.conv_impl = "xla"
run = sys.argv[1]
ev = records.PreparedDataset('/work/exp/eval')
idx = loading.select_records(ev, np.arange(len(ev)), config)
pick = np.random.default_rng(0).choice(idx, 64, replace=False)
x = input_pipeline.normalize(jnp.asarray(input_pipeline.centre_crops(ev, pick, config)))
g = models.build_generator(config)
steps = sorted((d for d in os.listdir(os.path.join(run, 'checkpoints')) if d.isdigit()), key=int)
for step in ['init'] + steps:
  if step == 'init':
    v = g.init(jax.random.PRNGKey(0), x[:2], x[:2])
  else:
    state, _ = checkpointing.load_state_tree(os.path.join(run, 'checkpoints', step))
    v = gan_steps.g_variables(state)
  fe = g.apply(v, x, method=g.encode_expression)
  fi = g.apply(v, x, method=g.encode_identity)
  sv_e, sv_i = [], []
  for k in range(8):
    je = jax.jacfwd(lambda e: g.apply(v, e[None], fi[32 + k][None], method=g.decode).ravel())(fe[k])
    ji = jax.jacfwd(lambda i: g.apply(v, fe[k][None], i[None], method=g.decode).ravel())(fi[32 + k])
    sv_e.append(np.linalg.svd(np.asarray(je), compute_uv=False))
    sv_i.append(np.linalg.svd(np.asarray(ji), compute_uv=False))
  se, si = np.mean(sv_e, 0), np.mean(sv_i, 0)
  c = np.asarray(fe - fe.mean(0)); sd = np.linalg.svd(c, compute_uv=False) / np.sqrt(len(c))
  print(json.dumps(dict(step=step, J_e_sv=[round(float(a), 3) for a in se[:8]],
                        J_i_sv=[round(float(a), 3) for a in si[:8]],
                        fe_sd=[round(float(a), 3) for a in sd[:6]])), flush=True)
