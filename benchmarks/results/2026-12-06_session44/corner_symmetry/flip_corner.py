"""Usage: flip_corner.py RUN_OR_CHECKPOINT...  Is G's weak bottom-left corner the content's or the position's?  Self-reenactments of
the same 32 pre-training faces, as stored and mirrored: the corner errors |x_bar - x| (4x4)
over the image's mean error."""
import os, sys
import jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.data import records
g = models.build_generator(synthetic.get_config())
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 28)[:128]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x0 = imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1
for run in sys.argv[1:]:
  # A run's workdir (its pre-training checkpoint) or one checkpoint directory.
  pretrain = os.path.join(run, 'pretrain')
  state, _ = checkpointing.load_state_tree(pretrain if os.path.isdir(pretrain) else run)
  for name, x in (('as stored', x0), ('mirrored', x0[:, :, ::-1])):
    x = jnp.asarray(np.ascontiguousarray(x))
    xb = np.asarray(g.apply(gan_steps.g_variables(state), x, x, train=False))
    err = np.abs(xb - np.asarray(x))
    out = []
    for c, (r, cc) in (('TL', (slice(0, 4), slice(0, 4))), ('TR', (slice(0, 4), slice(60, 64))),
                       ('BL', (slice(60, 64), slice(0, 4))), ('BR', (slice(60, 64), slice(60, 64)))):
      out.append(f'{c} {err[:, r, cc].mean() / err.mean():.2f}')
    # the left and right 4-px columns and bottom rows as a whole
    out.append(f'left col {err[:, :, :4].mean() / err.mean():.2f} right col {err[:, :, 60:].mean() / err.mean():.2f}')
    print('/'.join(run.split('/')[-3:]), name, ' | '.join(out), flush=True)
