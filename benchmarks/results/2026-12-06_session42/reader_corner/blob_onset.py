"""When does the corner blob form?  For each checkpoint of a stage-1 run: the
top-left and bottom-left corner pixels of G's self-reenactments of 32 faces
(mean colour over faces, and the share of the 4x4 corners' values above 0.9
in magnitude)."""
import os, sys
import jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.data import records
ckpts = sys.argv[1]
g = models.build_generator(synthetic.get_config())
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x = jnp.asarray(imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1)
for step in sorted(int(p) for p in os.listdir(ckpts) if p.isdigit()):
  state, _ = checkpointing.load_state_tree(os.path.join(ckpts, str(step)))
  xb = np.asarray(g.apply(gan_steps.g_variables(state, averaged=False), x, x, train=False))
  out = []
  for name, (r, c) in (('TL', (slice(0, 4), slice(0, 4))), ('BL', (slice(60, 64), slice(0, 4))),
                       ('TR', (slice(0, 4), slice(60, 64))), ('BR', (slice(60, 64), slice(60, 64)))):
    v = xb[:, r, c]
    out.append(f'{name} px0 {np.round(v[:, 0 if name[0] == "T" else -1, 0 if name[1] == "L" else -1].mean(0), 2).tolist()} >0.9: {(np.abs(v) > 0.9).mean():.2f}')
  print(step, '|', ' | '.join(out), '| image >0.9: %.4f' % (np.abs(xb) > 0.9).mean(), flush=True)
