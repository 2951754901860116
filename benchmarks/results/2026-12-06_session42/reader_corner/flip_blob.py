import sys
import jax, jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models, losses
from relgan_jax.stage1 import checkpointing, expression_reader
from relgan_jax.data import records
state, _ = checkpointing.load_state_tree(sys.argv[1] + '/pretrain')
rv = state['reader']
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx]); s = imgs.shape[1]; c0 = (s - 64) // 2
x = imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1
model = models.build_classifier(synthetic.get_config(), 7)
def term(xb, xr):
  return float(losses.reader_feature_loss(expression_reader.block_features(model, rv, jnp.asarray(xb)),
                                          expression_reader.block_features(model, rv, jnp.asarray(xr))))
xb = x.copy()
xb = (np.roll(xb, 1, 1) + xb + np.roll(xb, -1, 1)) / 3
xb = (np.roll(xb, 1, 2) + xb + np.roll(xb, -1, 2)) / 3
def blob(a, where):
  a = a.copy()
  for w in where:
    r = slice(0, 3) if w[0] == 'T' else slice(61, 64)
    c = slice(0, 3) if w[1] == 'L' else slice(61, 64)
    a[:, r, c] = (-1., 1., -1.)
  return a
fl = lambda a: a[:, :, ::-1]
for where in ((), ('TL',), ('TR',), ('BL',), ('BR',), ('TL', 'TR')):
  b = blob(xb, where)
  plain = term(b, x); flipped = term(fl(b), fl(x))
  print(where, 'plain', round(plain, 4), 'flipped', round(flipped, 4), 'mean', round((plain + flipped) / 2, 4))
