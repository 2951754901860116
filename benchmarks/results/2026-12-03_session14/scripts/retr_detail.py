import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import run_files, features
from relgan_jax.data import records, folds, loading
workdir, data_dir, fold = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = syncfg.get_config(); config.data.dir = data_dir
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, fold)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
ck = os.path.join(workdir, 'checkpoints'); last = max((d for d in os.listdir(ck) if d.isdigit()), key=int)
state, meta = checkpointing.load_state_tree(os.path.join(ck, last))
v = gan_steps.g_variables(state)
run_files.export_encoder(v['params'], config, '/tmp/s14_rd_enc')
mod, var = run_files.load_encoder('/tmp/s14_rd_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ftr = features.extract_features(enc, ds, tr, config); fte = features.extract_features(enc, ds, te, config)
mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
z = (fte.f - mu) / sd
d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf); nn = d.argmin(1)
e, i = fte.expression, fte.identity
inten = np.asarray([ds.manifest.get('intensities', [None])[0] if False else 0 for _ in te])
se, sp = e[nn] == e, i[nn] == i
print('fold', fold, 'same expr', se.mean().round(3), 'same person', sp.mean().round(3))
print('both', (se & sp).mean().round(3), 'expr only', (se & ~sp).mean().round(3), 'person only', (~se & sp).mean().round(3), 'neither', (~se & ~sp).mean().round(3))
names = ds.manifest['expression_classes']
for k in range(7):
  m = e == k
  print(f'{names[k]:9s} n={m.sum():3d} same_expr={se[m].mean():.2f} person_only={(~se & sp)[m].mean():.2f} confused_with', np.bincount(e[nn][m & ~se], minlength=7))
