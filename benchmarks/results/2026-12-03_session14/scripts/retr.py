"""Fold-0 retrieval of f(e) under three geometries. usage: retr.py WORKDIR DATA_DIR [sec.field=v]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import run_files, features
from relgan_jax.data import records, folds, loading
workdir, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir
for kv in sys.argv[3:]:
  k, v = kv.split('='); sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v) if not isinstance(config[sec][f], str) else v)
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
ck = os.path.join(workdir, 'checkpoints'); last = max((d for d in os.listdir(ck) if d.isdigit()), key=int)
state, meta = checkpointing.load_state_tree(os.path.join(ck, last))
v = gan_steps.g_variables(state)
run_files.export_encoder(v['params'], config, '/tmp/s14_retr_enc', g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder('/tmp/s14_retr_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ftr = features.extract_features(enc, ds, tr, config); fte = features.extract_features(enc, ds, te, config)
def nn_stats(z):
  d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf); nn = d.argmin(1)
  return (round(100 * float(np.mean(fte.expression[nn] == fte.expression)), 1),
          round(100 * float(np.mean(fte.identity[nn] == fte.identity)), 1))
mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
norms = np.linalg.norm(fte.f, axis=1)
# Share of the norm's variance explained by person, by expression.
def eta2(lbl):
  m = np.array([norms[lbl == l].mean() for l in lbl]); return round(float(np.var(m) / np.var(norms)), 3)
print(json.dumps(dict(std_euclid=nn_stats((fte.f - mu) / sd), raw_euclid=nn_stats(fte.f),
  cosine=nn_stats(unit(fte.f)), cosine_centred=nn_stats(unit(fte.f - mu)),
  norm_mean=round(float(norms.mean()), 2), norm_cv=round(float(norms.std() / norms.mean()), 3),
  norm_eta2_person=eta2(fte.identity), norm_eta2_expr=eta2(fte.expression))))
