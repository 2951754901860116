"""Where the strength is lost: blur attenuation of the real change (unbiased), same-person sources, self-reconstruction."""
import sys, os, json
import numpy as np
from scipy import ndimage
import importlib
syncfg = importlib.import_module('configs.' + os.environ.get('CFG', 'synthetic'))
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import disentanglement as dis, strength as st
from relgan_jax.data import records, folds, loading, input_pipeline
wd = sys.argv[1]; step = sys.argv[2] if len(sys.argv) > 2 else '1500'
config = syncfg.get_config(); config.data.dir = '/work/main/data/synthetic'; config.augment.five_crops = False
ds = records.PreparedDataset(config.data.dir)
tr, te = folds.split_indices(ds, 0); te = loading.select_records(ds, te, config)
ex = np.asarray(ds.expressions)[te]; who = np.asarray(ds.identities)[te]
images = input_pipeline.centre_crops(ds, te, config, 8)
persons = dis.person_keys(who)
src, tgt = st.strength_pairs(ex, persons, ds.manifest['expression_classes'], sources=4, seed=config.seed)
imf = images.astype(np.float64)
def halves(b):
  cells = []
  for e in np.unique(ex[persons == b]):
    ph = np.flatnonzero((persons == b) & (ex == e))
    if len(ph) >= 2: cells.append((imf[ph[0::2]].mean(0), imf[ph[1::2]].mean(0)))
  a, bb = (np.stack(c) - np.stack(c).mean(0) for c in zip(*cells)); return a, bb
if len(sys.argv) > 3 and sys.argv[3] == 'blur':
  for s in [0.75, 1, 1.5, 2, 3]:
    num = den = 0.0
    for b in np.unique(persons[tgt]):
      a, bb = halves(b); num += np.sum(ndimage.gaussian_filter(a, sigma=(0, s, s, 0)) * bb); den += np.sum(a * bb)
    print(json.dumps(dict(blur_sigma=s, real_change_kept=round(100 * num / den, 1))), flush=True)
state, _ = checkpointing.load_state_tree(os.path.join(wd, os.environ.get('CKPT', 'checkpoints'), step))
rf, _ = dis.reenactment_fns(config, gan_steps.g_variables(state))
# same-person sources: each x_s a photo of the target person b showing e (not x_t itself)
s2, t2 = [], []
for b in np.unique(persons[tgt]):
  t = tgt[persons[tgt] == b][0]
  for k in np.flatnonzero(persons == b):
    if k != t: s2.append(k); t2.append(t)
s2, t2 = np.asarray(s2), np.asarray(t2)
xb = dis._batched(rf, 8, images[s2], images[t2])
own = st.expression_strength(xb, ex[s2], persons[t2], images, ex, persons)
# self-reconstruction G(x, x)
allb = np.flatnonzero(np.isin(persons, np.unique(persons[tgt])))
xs = dis._batched(rf, 8, images[allb], images[allb])
selfr = st.expression_strength(xs, ex[allb], persons[allb], images, ex, persons)
xc = dis._batched(rf, 8, images[src], images[tgt])
cross = st.expression_strength(xc, ex[src], persons[tgt], images, ex, persons)
print(json.dumps(dict(run=os.path.basename(wd), step=step, cross=round(cross, 1), same_person_source=round(own, 1), self_recon=round(selfr, 1))), flush=True)
