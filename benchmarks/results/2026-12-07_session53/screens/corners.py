"""Corner blob measure for finished runs: G's self-reenactments of 32 pre-training faces
(G's moving average, which the grids use; and the trained G): per corner, the share of the
4x4 corner's values above 0.99 / 0.9 in magnitude, and |x_bar - x| in the 4x4 corner over
its mean over the image."""
import sys
import jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.data import records
g = models.build_generator(synthetic.get_config())
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x = jnp.asarray(imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1)
for run in sys.argv[1:]:
  state, _ = checkpointing.load_state_tree(run + '/pretrain')
  for averaged in (True, False):
    xb = np.asarray(g.apply(gan_steps.g_variables(state, averaged=averaged), x, x, train=False))
    err = np.abs(xb - np.asarray(x)); out = []
    for name, (r, c) in (('TL', (slice(0, 4), slice(0, 4))), ('TR', (slice(0, 4), slice(60, 64))),
                         ('BL', (slice(60, 64), slice(0, 4))), ('BR', (slice(60, 64), slice(60, 64)))):
      v = xb[:, r, c]
      out.append(f'{name} {(np.abs(v) > 0.99).mean():.2f}/{(np.abs(v) > 0.9).mean():.2f}/{err[:, r, c].mean() / err.mean():.2f}')
    print(run.split('/')[-1], 'G avg ' if averaged else 'G live', '>0.99/>0.9/err ratio:', ' | '.join(out),
          f'| image >0.99 {(np.abs(xb) > 0.99).mean():.4f}', flush=True)
