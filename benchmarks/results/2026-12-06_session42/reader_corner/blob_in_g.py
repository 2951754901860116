"""How much of the reader's term does G's own corner blob buy?  x_bar = G(x, x)
(self-reenactment of 32 pre-training faces, G's moving average), the term
against x itself, per block; then the same x_bar with each corner's 6x6
replaced by the colour just inside it (the blob removed)."""
import sys
import jax, jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models, losses
from relgan_jax.stage1 import checkpointing, expression_reader, gan_steps
from relgan_jax.data import records
state, _ = checkpointing.load_state_tree(sys.argv[1] + '/pretrain')
config = synthetic.get_config()
g = models.build_generator(config)
r = models.build_classifier(config, 7)
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x = jnp.asarray(imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1)
xb = np.asarray(g.apply(gan_steps.g_variables(state), x, x, train=False))
def per_block(a, mirror=False):
  t = lambda u: u[:, :, ::-1] if mirror else u
  fa = expression_reader.block_features(r, state['reader'], jnp.asarray(t(a)))
  fr = expression_reader.block_features(r, state['reader'], t(x))
  return np.array([float(losses.reader_feature_loss([p], [q])) for p, q in zip(fa, fr)])
def show(name, a):
  p, m = per_block(a), per_block(a, True)
  print(f'{name:22s} plain {np.round(p, 4)} {p.mean():.4f} | mirrored {np.round(m, 4)} {m.mean():.4f} | both {(p.mean() + m.mean()) / 2:.4f}')
show('x_bar', xb)
for corner in ('TL', 'TR', 'BL', 'BR'):
  a = xb.copy()
  rs = slice(0, 6) if corner[0] == 'T' else slice(58, 64)
  cs = slice(0, 6) if corner[1] == 'L' else slice(58, 64)
  ri = 7 if corner[0] == 'T' else 56
  ci = 7 if corner[1] == 'L' else 56
  a[:, rs, cs] = a[:, ri:ri + 1, ci:ci + 1]
  show(f'x_bar, {corner} patched', a)
print('pixel |x_bar - x| mean in corner 6x6 TL TR BL BR:',
      [round(float(np.abs(xb - np.asarray(x))[:, rs_, cs_].mean()), 3) for rs_, cs_ in
       ((slice(0, 6), slice(0, 6)), (slice(0, 6), slice(58, 64)), (slice(58, 64), slice(0, 6)), (slice(58, 64), slice(58, 64)))])
