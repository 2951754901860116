"""Is the stripe texture on x_bar one pattern shared by every reenactment?

For N reenactments x_bar = Gde(Ges(x_s), Get(x_t)) of fold 0's test people
(random pairs of different people) and, for reference, N real test faces:
the high-frequency residual r = x - GaussianBlur(x, sigma); the shared
pattern m = mean_i r_i; the share of the residual energy it explains,
||m||^2 / mean_i ||r_i||^2 (1 / N for independent residuals, 1 for one
pattern repeated). Also per row/column profile of |m| (where the stripes are).
usage: shared_hf.py STAGE1_CHECKPOINT_DIR DATA_DIR"""
import json, os, sys
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
from relgan_jax.model import models
from relgan_jax.data import records, folds, loading, input_pipeline

ckpt, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir
if os.environ.get('CONV_IMPL'): config.model.conv_impl = os.environ['CONV_IMPL']
ds = records.PreparedDataset(data_dir)
_, te = folds.split_indices(ds, 0)
te = loading.select_records(ds, te, config)
images = input_pipeline.centre_crops(ds, te, config, 8)
state, meta = checkpointing.load_state_tree(ckpt)
v = gan_steps.g_variables(state)
g = models.build_generator(config)
rng = np.random.default_rng(0)
N = 256
src = rng.integers(0, len(images), N); tgt = rng.integers(0, len(images), N)
xbar = np.concatenate([np.asarray(reenactment.pairs_uint8(g, v, images[src[i:i+16]], images[tgt[i:i+16]])) for i in range(0, N, 16)])
real = images[rng.integers(0, len(images), N)]

def gauss(x, sigma):
  k = np.exp(-0.5 * (np.arange(-4, 5) / sigma) ** 2); k /= k.sum()
  x = np.apply_along_axis(lambda a: np.convolve(a, k, mode='same'), 1, x)
  return np.apply_along_axis(lambda a: np.convolve(a, k, mode='same'), 2, x)

out = {}
for name, x in (('x_bar', xbar), ('real', real)):
  x = x.astype(np.float64) / 127.5 - 1
  for sigma in (1.0, 2.0):
    r = x - gauss(x, sigma)
    r = r[:, 6:-6, 6:-6]  # Away from the blur's borders.
    m = r.mean(0)
    share = float((m ** 2).sum() / np.mean((r ** 2).reshape(len(r), -1).sum(1)))
    out[f'{name}_sigma{sigma}'] = dict(share=round(share, 4), rms_residual=round(float(np.sqrt((r ** 2).mean())), 4),
                                       rms_shared=round(float(np.sqrt((m ** 2).mean())), 4))
out['independent_share'] = round(1 / N, 4)
print(json.dumps(out))
np.save('/work/exp/s30/texture/shared_pattern_xbar.npy', (xbar.astype(np.float64) / 127.5 - 1 - gauss(xbar.astype(np.float64) / 127.5 - 1, 1.0)).mean(0))

# The two shared patterns side by side (x 4, centred at grey), and how much of
# x_bar's shared pattern the real faces' shared pattern accounts for.
from PIL import Image
def hf_mean(x, sigma=1.0):
  x = x.astype(np.float64) / 127.5 - 1
  return (x - gauss(x, sigma)).mean(0)
mx, mr = hf_mean(xbar), hf_mean(real)
c = (slice(6, -6), slice(6, -6))
diff = mx[c] - mr[c]
print(json.dumps(dict(corr=round(float(np.corrcoef(mx[c].ravel(), mr[c].ravel())[0, 1]), 3),
                      rms_xbar_shared=round(float(np.sqrt((mx[c] ** 2).mean())), 4),
                      rms_real_shared=round(float(np.sqrt((mr[c] ** 2).mean())), 4),
                      rms_difference=round(float(np.sqrt((diff ** 2).mean())), 4))))
tile = lambda m: np.clip(127.5 + 4 * 127.5 * m, 0, 255).astype(np.uint8)
row = np.concatenate([tile(mx), np.full((mx.shape[0], 4, 3), 255, np.uint8), tile(mr),
                      np.full((mx.shape[0], 4, 3), 255, np.uint8), tile(mx - mr)], 1)
Image.fromarray(row).resize((row.shape[1] * 4, row.shape[0] * 4), Image.NEAREST).save('/work/exp/s30/texture/shared_patterns.png')
