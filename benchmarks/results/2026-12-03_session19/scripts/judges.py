"""Session 19: expression transfer of a stage-1 checkpoint read by two judges per fold: the
fold's CNN baseline as the protocol trains it (the report's judge; seed config.seed + fold) and
session 18's VGG-BN judge (another architecture). Judges cached per fold in /work/exp/s19/.
usage (repo root on PYTHONPATH): judges.py CKPT_DIR DATA_DIR [sec.field=value ...]; FOLDS=0,1"""
import sys, os, json, time
import numpy as np
import jax, jax.numpy as jnp
import flax.linen as nn
from flax import serialization
from configs import synthetic_full as cfgmod
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import run_files, features, baseline as bl, disentanglement as dis
from relgan_jax.data import records, folds, loading, input_pipeline

class VGGJudge(nn.Module):
  num_classes: int
  @nn.compact
  def __call__(self, x, train=False, return_features=False):
    for c in (16, 32, 64, 64):
      for _ in range(2):
        x = nn.Conv(c, (3, 3))(x)
        x = nn.BatchNorm(use_running_average=not train, momentum=0.9)(x)
        x = nn.relu(x)
      x = nn.max_pool(x, (2, 2), (2, 2))
    f = nn.relu(nn.Dense(128)(x.mean((1, 2))))
    logits = nn.Dense(self.num_classes)(f)
    return (logits, f) if return_features else logits

ckpt, data_dir = sys.argv[1], sys.argv[2]
config = cfgmod.get_config(); config.data.dir = data_dir
for kv in sys.argv[3:]:
  k, v = kv.split('=')
  sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v) if not isinstance(config[sec][f], str) else v)
ds = records.PreparedDataset(data_dir)
state, meta = checkpointing.load_state_tree(ckpt)
v = gan_steps.g_variables(state)
tmp = f'/tmp/s19_judge_enc_{os.getpid()}'
run_files.export_encoder(v['params'], config, tmp, g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder(tmp, return_variables=True)
enc = features.ges_encoder_fn(mod, var)
build_baseline = bl.build_baseline
size = config.model.image_size
for fold in [int(k) for k in os.environ.get('FOLDS', '0').split(',')]:
  tr, te = folds.split_indices(ds, fold)
  tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
  fte = features.extract_features(enc, ds, te, config)
  images = input_pipeline.centre_crops(ds, te, config, 8)
  pairs = dis.transfer_pairs(fte.expression, fte.identity, ds.manifest['expression_classes'],
                             targets_per_source=config.stage2.transfer_targets,
                             max_pairs=config.stage2.transfer_max_pairs, seed=config.seed + fold)
  for kind in ('baseline_w%g' % config.model.width, 'vgg_bn_16-64'):
    t0 = time.time()
    bl.build_baseline = (lambda c, nc: VGGJudge(nc)) if kind.startswith('vgg') else build_baseline
    module = bl.build_baseline(config, 7)
    path = f'/work/exp/s19/judge_{kind}_f{fold}.msgpack'
    if os.path.exists(path):
      tmpl = jax.jit(lambda k: module.init(k, jnp.zeros((1, size, size, 3)), train=False))(jax.random.key(0))
      jvars = serialization.from_bytes(tmpl, open(path, 'rb').read())
    else:
      module, jvars = bl.train_baseline(config, ds, tr, 7, seed=config.seed + fold)
      open(path, 'wb').write(serialization.to_bytes(jvars))
    rf, cf = dis.reenactment_fns(config, v, (module, jvars))
    r = dis.reenactment_measures(rf, images, fte.expression, fte.identity, pairs, num_classes=7,
                                 classify_fn=cf, batch_size=8)
    print(json.dumps(dict(ckpt=ckpt, fold=fold, step=int(meta['step']), judge=kind,
                          transfer=round(r['expression_transfer'], 2),
                          judge_real=round(r['baseline_real_accuracy'], 2),
                          kept=round(r['identity_kept'], 1), src=round(r['identity_source'], 1),
                          pairs=int(len(pairs[0])), seconds=round(time.time() - t0))), flush=True)
