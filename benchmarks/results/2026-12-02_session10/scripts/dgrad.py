"""Input-gradient norms of De's CE on real faces along stage 1. usage: dgrad.py RUN"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing
from relgan_jax.model import models
from relgan_jax.data import records, loading, input_pipeline
config = syncfg.get_config()
run = sys.argv[1]
ev = records.PreparedDataset('/work/exp/pre')
idx = loading.select_records(ev, np.arange(len(ev)), config)
pick = np.random.default_rng(0).choice(idx, 64, replace=False)
x = input_pipeline.normalize(jnp.asarray(input_pipeline.centre_crops(ev, pick, config)))
y = jnp.asarray(ev.expressions[pick])
d = models.build_discriminator(config, 7, 64)
for step in sorted((s for s in os.listdir(os.path.join(run, 'checkpoints')) if s.isdigit()), key=int):
  state, _ = checkpointing.load_state_tree(os.path.join(run, 'checkpoints', step))
  dp = state['d_params'] if isinstance(state, dict) else state.d_params
  def ce_sum(x):
    de, _ = d.apply({'params': dp}, x)
    return jnp.sum(jax.nn.logsumexp(de, -1) - jnp.take_along_axis(de, y[:, None], -1)[:, 0])
  def real_sum(x):
    de, _ = d.apply({'params': dp}, x)
    return jnp.sum(jax.nn.logsumexp(de[:, :-1], -1) - de[:, -1])
  g = jax.grad(ce_sum)(x); gr = jax.grad(real_sum)(x)
  n = jnp.sum(g ** 2, axis=(1, 2, 3)); nr = jnp.sum(gr ** 2, axis=(1, 2, 3))
  print(json.dumps(dict(step=int(step), ce_grad_sq=float(n.mean()), real_grad_sq=float(nr.mean()), ce=float(ce_sum(x)/64))), flush=True)
