import sys
import jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.data import records
state, _ = checkpointing.load_state_tree(sys.argv[1] + '/pretrain')
g = models.build_generator(synthetic.get_config())
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x = jnp.asarray(imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1)
for averaged in (True, False):
  xb = np.asarray(g.apply(gan_steps.g_variables(state, averaged=averaged), x, x, train=False))
  print('averaged' if averaged else 'trained G', 'fraction of |x_bar| > 0.99 overall %.4f' % (np.abs(xb) > 0.99).mean())
  for name, (r, c) in (('TL', (slice(0, 4), slice(0, 4))), ('BL', (slice(60, 64), slice(0, 4)))):
    v = xb[:, r, c]
    print(' ', name, 'mean over faces per pixel (R,G,B) of the 4x4 corner:\n', np.round(v.mean(0), 2).tolist())
    print('  ', name, 'std over faces %.3f; saturated (>0.99) %.2f' % (v.std(0).mean(), (np.abs(v) > 0.99).mean()))
