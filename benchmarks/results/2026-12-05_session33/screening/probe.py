"""Screening probe (session 19; session 14's probe + diagnostics): fold-0 MLP on
f(e) (centre crops), NN retrieval, expression transfer / identity kept read by
fold 0's CNN baseline (cached), what the judge reads x_bar as (source's or
target's expression), linear expression probes on f(e) and f(i), and how much
x_bar moves when f(e) or f(i) is swapped.
usage: probe.py WORKDIR DATA_DIR [sec.field=value ...]"""
import sys, os, json
import numpy as np
import jax, jax.numpy as jnp
from flax import serialization
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
from relgan_jax.model import models
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
classes = ds.manifest['expression_classes']
tr, te = folds.split_indices(ds, 0)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
ck = os.path.join(workdir, 'checkpoints')
last = int(os.environ.get('STEP', max((d for d in os.listdir(ck) if d.isdigit()), key=int)))
state, meta = checkpointing.load_state_tree(os.path.join(ck, str(last)))
v = gan_steps.g_variables(state)
tmpdir = f'/tmp/s26_probe_enc_{os.getpid()}'
run_files.export_encoder(v['params'], config, tmpdir, g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder(tmpdir, return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ftr = features.extract_features(enc, ds, tr, config)
fte = features.extract_features(enc, ds, te, config)
mlp = stage2.train_mlp(ftr, 7, config, seed=0)
acc = 100 * np.mean(mlp.logits(fte.f).argmax(-1) == fte.expression)
mu, sd = ftr.f.mean(0), ftr.f.std(0) + 1e-6
z = (fte.f - mu) / sd
d = ((z[:, None] - z[None]) ** 2).sum(-1); np.fill_diagonal(d, np.inf)
nn = d.argmin(1)
bpath = '/work/exp/s26/baseline5_f0.msgpack'
bconfig = syncfg.get_config(); bconfig.data.dir = data_dir; bconfig.augment.five_crops = True
module = bl.build_baseline(bconfig, 7)
if os.path.exists(bpath):
  size = config.model.image_size
  tmpl = jax.jit(lambda k: module.init(k, jnp.zeros((1, size, size, 3)), train=False))(jax.random.key(0))
  bvars = serialization.from_bytes(tmpl, open(bpath, 'rb').read())
else:
  module, bvars = bl.train_baseline(bconfig, ds, tr, 7, seed=bconfig.seed)
  open(bpath, 'wb').write(serialization.to_bytes(bvars))
images = input_pipeline.centre_crops(ds, te, config, 8)
images_tr = input_pipeline.centre_crops(ds, tr, config, 8)
src, tgt = dis.transfer_pairs(fte.expression, fte.identity, classes,
                              targets_per_source=config.stage2.transfer_targets,
                              max_pairs=config.stage2.transfer_max_pairs, seed=config.seed)
rf, cf = dis.reenactment_fns(config, v, (module, bvars))
r = dis.reenactment_measures(rf, images, fte.expression, fte.identity, (src, tgt), num_classes=7,
                             classify_fn=cf, batch_size=8)
xbar = dis._batched(rf, 8, images[src], images[tgt])
read = dis._batched(cf, 8, xbar).argmax(-1)
es, et = fte.expression[src], fte.expression[tgt]
g = models.build_generator(config)
def encode(method, imgs):
  fn = jax.jit(lambda x: g.apply(v, input_pipeline.normalize(x), method=method))
  return dis._batched(fn, 8, imgs)
probes = {}
for name, method in (('fi', g.encode_identity), ('fe', g.encode_expression)):
  a, b = encode(method, images_tr), encode(method, images)
  probes[name + '_expr_lin'] = round(dis.identity_probe(a, ftr.expression, b, fte.expression, seed=0)['accuracy'], 1)
fe = encode(g.encode_expression, images[src[:256]]); fi = encode(g.encode_identity, images[tgt[:256]])
dec = jax.jit(lambda a, b: g.apply(v, a, b, method=g.decode))
x0 = np.asarray(dec(fe, fi)); xe = np.asarray(dec(np.roll(fe, 1, 0), fi)); xi = np.asarray(dec(fe, np.roll(fi, 1, 0)))
from relgan_jax.evaluation import strength as st
_p = dis.person_keys(fte.identity)
_s, _t = st.strength_pairs(fte.expression, _p, classes, sources=4, seed=config.seed)
strength = round(st.expression_strength(dis._batched(rf, 8, images[_s], images[_t]), fte.expression[_s], _p[_t], images, fte.expression, _p), 1)
print(json.dumps(dict(step=int(last), acc=round(float(acc), 2),
  nn_same_expr=round(100 * float(np.mean(fte.expression[nn] == fte.expression)), 1),
  nn_same_person=round(100 * float(np.mean(fte.identity[nn] == fte.identity)), 1),
  transfer=round(r['expression_transfer'], 1), real=round(r['baseline_real_accuracy'], 1),
  kept=round(r['identity_kept'], 1), src=round(r['identity_source'], 1),
  read_as_target=round(100 * float(np.mean(read == et)), 1),
  read_hist=np.bincount(read, minlength=7).tolist(), classes=list(classes),
  per_class={classes[c]: round(100 * float(np.mean(read[es == c] == c)), 1) for c in range(7)},
  swap_fe=round(float(np.abs(x0 - xe).mean()), 4), swap_fi=round(float(np.abs(x0 - xi).mean()), 4),
  strength=strength, **probes)), flush=True)
reenactment.draw_reenactment_grid(config, v, ds, te, os.path.join(workdir, f'grid{last}.png'), title=os.path.basename(workdir))
