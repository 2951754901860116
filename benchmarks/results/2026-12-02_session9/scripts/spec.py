"""f(e) spectrum along stage 1. usage: spec.py RUNDIR [override=...]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing
from relgan_jax.evaluation import run_files, features
from relgan_jax.data import records, loading
config = syncfg.get_config()
run = sys.argv[1]
ev = records.PreparedDataset('/work/exp/eval')
idx = loading.select_records(ev, np.arange(len(ev)), config)
def explained(p, labels):
  m = np.zeros_like(p)
  for l in np.unique(labels):
    m[labels == l] = p[labels == l].mean()
  return round(float(1 - ((p - m) ** 2).sum() / ((p - p.mean()) ** 2).sum()), 3)
for step in sorted(os.listdir(os.path.join(run, 'checkpoints')), key=int):
  state, meta = checkpointing.load_state_tree(os.path.join(run, 'checkpoints', step))
  run_files.export_encoder(state['g_params'], config, '/tmp/s9_enc')
  mod, var = run_files.load_encoder('/tmp/s9_enc', return_variables=True)
  enc = features.ges_encoder_fn(mod, var)
  f = features.extract_features(enc, ev, idx, config)
  x = f.f - f.f.mean(0)
  u, s, vt = np.linalg.svd(x, full_matrices=False)
  lam = s ** 2 / len(x)
  pr = float(lam.sum() ** 2 / (lam ** 2).sum())
  pcs = x @ vt[:4].T
  out = dict(step=int(step), total_var=round(float(lam.sum()), 4), part_ratio=round(pr, 2),
             var_frac=[round(float(v), 3) for v in (lam / lam.sum())[:4]],
             pcs_expr=[explained(pcs[:, k], f.expression) for k in range(4)],
             pcs_id=[explained(pcs[:, k], f.identity) for k in range(4)],
             mean_norm=round(float(np.linalg.norm(f.f.mean(0))), 3))
  print(json.dumps(out), flush=True)
