"""Screening probe: f(e) of a stage-1 checkpoint on the eval set's fold 0.

usage: probe.py CONFIG_OVERRIDES... -- run via: python probe.py WORKDIR DATA_DIR [image_size width]
"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax
from configs import synthetic as syncfg
from relgan_jax import checkpointing, run_files, records, folds, stage2, protocol, models

workdir, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config()
config.data.dir = data_dir
for kv in sys.argv[3:]:
  k, v = kv.split('=')
  sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v))
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0)
tr = protocol.select_records(ds, tr, config); te = protocol.select_records(ds, te, config)
out = {}
def evaluate(name, g_params):
  run_files.export_encoder(g_params, config, f'/tmp/probe_enc_{name}')
  mod, var = run_files.load_encoder(f'/tmp/probe_enc_{name}', return_variables=True)
  enc = stage2.ges_encoder_fn(mod, var)
  ftr = stage2.extract_features(enc, ds, tr, config)
  fte = stage2.extract_features(enc, ds, te, config)
  mlp = stage2.train_mlp(ftr, 7, config, seed=0)
  acc = 100 * np.mean(mlp.logits(fte.f).argmax(-1) == fte.expression)
  mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
  z = (fte.f - mu) / sd
  d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf)
  nn = d.argmin(1)
  r = fte.f
  d2 = ((r[:, None] - r[None]) ** 2).sum(-1); np.fill_diagonal(d2, np.inf)
  nn2 = d2.argmin(1)
  out['raw'] = dict(nn_same_expr=round(100 * float(np.mean(fte.expression[nn2] == fte.expression)), 1),
                   nn_same_person=round(100 * float(np.mean(fte.identity[nn2] == fte.identity)), 1))
  ev = np.linalg.eigvalsh(np.cov(ftr.f.T))[::-1]
  out['spectrum'] = [round(float(v / ev.sum()), 3) for v in ev[:8]]
  out[name] = dict(acc=round(float(acc), 2),
                   nn_same_expr=round(100 * float(np.mean(fte.expression[nn] == fte.expression)), 1),
                   nn_same_person=round(100 * float(np.mean(fte.identity[nn] == fte.identity)), 1))
state, meta = checkpointing.load_state_tree(workdir if 'checkpoints/' in workdir else sorted(
    (os.path.join(workdir, 'checkpoints', d) for d in os.listdir(os.path.join(workdir, 'checkpoints')) if d.isdigit()),
    key=lambda p: int(os.path.basename(p)))[-1])
evaluate('trained_' + os.environ.get('PROBE_KEY', 'g_params'), state[os.environ.get('PROBE_KEY', 'g_params')])
print(json.dumps(out))
