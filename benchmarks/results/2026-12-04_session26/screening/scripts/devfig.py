"""Figure: for 3 test people, real class-mean deviations by expression vs drawn (fixed x_t, 8 sources per e)."""
import sys, os
import numpy as np
from PIL import Image
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import disentanglement as dis
from relgan_jax.data import records, folds, loading, input_pipeline
wd, step, out = sys.argv[1], sys.argv[2], sys.argv[3]
config = syncfg.get_config(); config.data.dir = '/work/main/data/synthetic'
ds = records.PreparedDataset(config.data.dir)
tr, te = folds.split_indices(ds, 0); te = loading.select_records(ds, te, config)
ex = np.asarray(ds.expressions)[te]; who = np.asarray(ds.identities)[te]
images = input_pipeline.centre_crops(ds, te, config, 8)
state, _ = checkpointing.load_state_tree(os.path.join(wd, 'checkpoints', step))
rf, _ = dis.reenactment_fns(config, gan_steps.g_variables(state))
rng = np.random.default_rng(0)
rows = []
for b in np.unique(who)[:3]:
  t = np.flatnonzero((who == b) & (ex == 0))[0]
  M, R = [], []
  for e in range(7):
    s = rng.choice(np.flatnonzero((ex == e) & (who != b)), 8, replace=False)
    M.append(dis._batched(rf, 8, images[s], images[np.full(8, t)]).astype(float).mean(0))
    R.append(images[(who == b) & (ex == e)].astype(float).mean(0))
  M, R = np.stack(M), np.stack(R)
  amp = lambda D: np.clip(128 + 3 * D, 0, 255).astype(np.uint8)
  rows += [np.concatenate(list(R.astype(np.uint8)), 1), np.concatenate(list(amp(R - R.mean(0))), 1),
           np.concatenate(list(M.astype(np.uint8)), 1), np.concatenate(list(amp(M - M.mean(0))), 1)]
  print(b, 'rms real', np.sqrt(((R - R.mean(0)) ** 2).mean()), 'rms drawn', np.sqrt(((M - M.mean(0)) ** 2).mean()))
Image.fromarray(np.concatenate(rows, 0)).save(out)
