"""Screening probe (new layout): fold-0 MLP on f(e) of the last checkpoint,
NN retrieval, f(e) spectrum. usage: probe.py WORKDIR DATA_DIR [sec.field=value ...]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import run_files, features, stage2
from relgan_jax.data import records, folds, loading

workdir, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config()
config.data.dir = data_dir
for kv in sys.argv[3:]:
  k, v = kv.split('=')
  sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v) if not isinstance(config[sec][f], str) else v)
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
ck = os.path.join(workdir, 'checkpoints')
last = max((d for d in os.listdir(ck) if d.isdigit()), key=int)
state, meta = checkpointing.load_state_tree(os.path.join(ck, last))
v = gan_steps.g_variables(state)
run_files.export_encoder(v['params'], config, '/tmp/s9_probe_enc', g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder('/tmp/s9_probe_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ftr = features.extract_features(enc, ds, tr, config)
fte = features.extract_features(enc, ds, te, config)
mlp = stage2.train_mlp(ftr, 7, config, seed=0)
acc = 100 * np.mean(mlp.logits(fte.f).argmax(-1) == fte.expression)
mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
z = (fte.f - mu) / sd
d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf)
nn = d.argmin(1)
x = ftr.f - mu
lam = np.linalg.svd(x, compute_uv=False) ** 2
print(json.dumps(dict(step=int(last), acc=round(float(acc), 2),
  nn_same_expr=round(100 * float(np.mean(fte.expression[nn] == fte.expression)), 1),
  nn_same_person=round(100 * float(np.mean(fte.identity[nn] == fte.identity)), 1),
  spectrum=[round(float(l), 3) for l in (lam / lam.sum())[:6]])))
