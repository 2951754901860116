"""Screening probe (session 14): fold-0 MLP on f(e) (centre crops), NN retrieval,
and expression transfer / identity kept read by fold 0's CNN baseline (trained once,
cached in /work/exp/baseline_f0.msgpack). usage: probe.py WORKDIR DATA_DIR [sec.field=value ...]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
import jax
from flax import serialization
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import run_files, features, stage2, baseline as bl, disentanglement as dis
from relgan_jax.data import records, folds, loading, input_pipeline

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
run_files.export_encoder(v['params'], config, '/tmp/s14_probe_enc', g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder('/tmp/s14_probe_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ftr = features.extract_features(enc, ds, tr, config)
fte = features.extract_features(enc, ds, te, config)
mlp = stage2.train_mlp(ftr, 7, config, seed=0)
acc = 100 * np.mean(mlp.logits(fte.f).argmax(-1) == fte.expression)
mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
z = (fte.f - mu) / sd
d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf)
nn = d.argmin(1)
# Transfer with the cached fold-0 baseline.
bpath = '/work/exp/baseline_f0.msgpack'
bconfig = syncfg.get_config(); bconfig.data.dir = data_dir
module = bl.build_baseline(bconfig, 7)
if os.path.exists(bpath):
  size = config.model.image_size
  import jax.numpy as jnp
  tmpl = jax.jit(lambda k: module.init(k, jnp.zeros((1, size, size, 3)), train=False))(jax.random.key(0))
  bvars = serialization.from_bytes(tmpl, open(bpath, 'rb').read())
else:
  module, bvars = bl.train_baseline(config, ds, tr, 7, seed=config.seed)
  open(bpath, 'wb').write(serialization.to_bytes(bvars))
images = input_pipeline.centre_crops(ds, te, config, 8)
pairs = dis.transfer_pairs(fte.expression, fte.identity, ds.manifest['expression_classes'],
                           targets_per_source=config.stage2.transfer_targets,
                           max_pairs=config.stage2.transfer_max_pairs, seed=config.seed)
rf, cf = dis.reenactment_fns(config, v, (module, bvars))
r = dis.reenactment_measures(rf, images, fte.expression, fte.identity, pairs, num_classes=7,
                             classify_fn=cf, batch_size=8)
print(json.dumps(dict(step=int(last), acc=round(float(acc), 2),
  nn_same_expr=round(100 * float(np.mean(fte.expression[nn] == fte.expression)), 1),
  nn_same_person=round(100 * float(np.mean(fte.identity[nn] == fte.identity)), 1),
  transfer=round(r['expression_transfer'], 1), real=round(r['baseline_real_accuracy'], 1),
  kept=round(r['identity_kept'], 1), src=round(r['identity_source'], 1))))
from relgan_jax.stage1 import reenactment
reenactment.draw_reenactment_grid(config, v, ds, te, os.path.join(workdir, 'grid.png'), title=os.path.basename(workdir))
