"""Session 18: expression transfer of the landed longer run's final G read by a judge of
another architecture than the reader's (VGG-style: 3x3 convs, BatchNorm, ReLU, max-pooling,
no Ges trunk), trained per fold by the baseline's own trainer (40 epochs, lr 1e-3, augmented).
usage (repo root on PYTHONPATH): transfer_other_judge.py CKPT_DIR DATA_DIR
(run on /work/exp/runs/full17/pretrain/checkpoints/6000 and full14w/.../6000 with data/synthetic;
output: ../transfer_other_judge.jsonl)"""
import sys, os, json, time
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
import jax, jax.numpy as jnp
import flax.linen as nn
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

bl.build_baseline = lambda config, nc: VGGJudge(nc)
ckpt, data_dir = sys.argv[1], sys.argv[2]
config = cfgmod.get_config(); config.data.dir = data_dir
ds = records.PreparedDataset(data_dir)
state, meta = checkpointing.load_state_tree(ckpt)
v = gan_steps.g_variables(state)
run_files.export_encoder(v['params'], config, '/tmp/s18_judge_enc', g_batch_stats=v.get('batch_stats'))
mod, var = run_files.load_encoder('/tmp/s18_judge_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
out = []
for fold in (0, 1):
  t0 = time.time()
  tr, te = folds.split_indices(ds, fold)
  tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
  fte = features.extract_features(enc, ds, te, config)
  module, jvars = bl.train_baseline(config, ds, tr, 7, seed=config.seed)
  images = input_pipeline.centre_crops(ds, te, config, 8)
  pairs = dis.transfer_pairs(fte.expression, fte.identity, ds.manifest['expression_classes'],
                             targets_per_source=config.stage2.transfer_targets,
                             max_pairs=config.stage2.transfer_max_pairs, seed=config.seed + fold)
  rf, cf = dis.reenactment_fns(config, v, (module, jvars))
  r = dis.reenactment_measures(rf, images, fte.expression, fte.identity, pairs, num_classes=7,
                               classify_fn=cf, batch_size=8)
  rec = dict(fold=fold, step=int(meta['step']), judge='vgg_bn_16-64', transfer=round(r['expression_transfer'], 2),
             judge_real=round(r['baseline_real_accuracy'], 2), pairs=int(len(pairs[0])),
             seconds=round(time.time() - t0))
  print(json.dumps(rec), flush=True); out.append(rec)
print(json.dumps(dict(mean_transfer=round(float(np.mean([o['transfer'] for o in out])), 2),
                      mean_judge_real=round(float(np.mean([o['judge_real'] for o in out])), 2))))
