"""Where the demo's expression transfer is lost (diagnostic, fold 0).

Trains fold 0's CNN baseline exactly as the protocol does (config.seed + 0),
then reports the share of images it reads as the intended expression for:
  real test crops; the same crops Gaussian-blurred (sigma 1, 1.5, 2, 3 px);
  self-reconstructions x_hat = Gde(Ges(x), Get(x)) of test crops (x is both
  source and target: no identity change); reenactments x_bar = Gde(Ges(x_s),
  Get(x_t)) with x_s, x_t of different test people (the report's transfer);
  reenactments onto the same person's other image (x_t another image of
  x_s's person).
Also a sharpness figure: mean |Laplacian| of each image set.
"""
import json, sys
import numpy as np
from PIL import Image, ImageFilter
from configs import synthetic
from relgan_jax.data import folds, input_pipeline, loading, records
from relgan_jax.evaluation import baseline, inference

WORKDIR = sys.argv[1]
config = synthetic.get_config()
ds = records.PreparedDataset('data/synthetic')
ne = len(ds.manifest['expression_classes'])
tr, te = folds.split_indices(ds, 0)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
module, variables = baseline.train_baseline(config, ds, tr, ne, seed=config.seed)
enc = baseline.encoder_fn(module, variables)
def crops(idx):
  out = [b['image'] for b in input_pipeline.eval_batches(ds, idx, config, batch_size=64)]
  return np.concatenate(out)[:len(idx)]
def read(x):
  return np.concatenate([np.asarray(enc(x[i:i + 64])[0]).argmax(-1) for i in range(0, len(x), 64)])
def sharp(x):
  g = x.astype(np.float32).mean(-1)
  lap = np.abs(4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1] - g[:, 1:-1, :-2] - g[:, 1:-1, 2:])
  return float(lap.mean())
x = crops(te); y = np.asarray(ds.expressions)[te]; who = np.asarray(ds.identities)[te]
res = {}
res['real'] = (100 * np.mean(read(x) == y), sharp(x))
for s in (1.0, 1.5, 2.0, 3.0):
  xb = np.stack([np.asarray(Image.fromarray(a).filter(ImageFilter.GaussianBlur(s))) for a in x])
  res[f'real_blur{s}'] = (100 * np.mean(read(xb) == y), sharp(xb))
r = inference.load_reenactor(WORKDIR)
rng = np.random.default_rng(0)
n = 600
pick = rng.choice(len(x), n, replace=False)
xh = np.stack([r.reenact(x[i:i + 1], x[i:i + 1])[0, 0] for i in pick])
res['self_reconstruction'] = (100 * np.mean(read(xh) == y[pick]), sharp(xh))
src, tgt_other, tgt_same = [], [], []
for i in pick:
  others = np.flatnonzero(who != who[i]); same = np.flatnonzero((who == who[i]) & (np.arange(len(x)) != i))
  src.append(i); tgt_other.append(rng.choice(others)); tgt_same.append(rng.choice(same))
xo = np.stack([r.reenact(x[s:s + 1], x[t:t + 1])[0, 0] for s, t in zip(src, tgt_other)])
xs = np.stack([r.reenact(x[s:s + 1], x[t:t + 1])[0, 0] for s, t in zip(src, tgt_same)])
res['transfer_other_person'] = (100 * np.mean(read(xo) == y[src]), sharp(xo))
res['transfer_same_person'] = (100 * np.mean(read(xs) == y[src]), sharp(xs))
res['target_expression_kept_other'] = (100 * np.mean(read(xo) == y[tgt_other]), None)
for k, v in res.items(): print(f'{k:32s} read as intended {v[0]:6.2f} %   sharpness {v[1]}')
json.dump(res, open('/work/exp/s23/blur_probe_'+sys.argv[2]+'.json', 'w'), indent=1)
Image.fromarray(np.concatenate([np.concatenate(list(a[:8]), 1) for a in (x[pick], xh, xo)], 0)).save('/work/exp/s23/blur_probe_'+sys.argv[2]+'.png')
