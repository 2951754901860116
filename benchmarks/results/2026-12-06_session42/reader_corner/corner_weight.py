"""The change-weighted pixel term's weight in the corners: (1 + a*c)/(1 + a),
c = losses.change_map(x_tg, x_t), for pairs of one person (x_tg an expression,
x_t the neutral face), alpha = 16 as in the demo."""
import jax.numpy as jnp, numpy as np
from relgan_jax.model import losses
from relgan_jax.data import records
ds = records.PreparedDataset('data/synthetic_pretrain')
ids, ex = np.asarray(ds.identities), np.asarray(ds.expressions)
pairs = []
for person in np.unique(ids)[:32]:
  pos = np.flatnonzero(ids == person)
  neutral = pos[ex[pos] == 0][0]
  other = pos[ex[pos] != 0][0]
  pairs.append((other, neutral))
def crop(i):
  im = ds[int(i)]['image']; c0 = (im.shape[0] - 64) // 2
  return im[c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1
x_tg = jnp.asarray(np.stack([crop(a) for a, _ in pairs]))
x_t = jnp.asarray(np.stack([crop(b) for _, b in pairs]))
w = np.asarray((1 + 16 * losses.change_map(x_tg, x_t)) / 17)[..., 0]
corners = [w[:, r, c].mean() for r, c in ((slice(0, 6), slice(0, 6)), (slice(0, 6), slice(58, 64)), (slice(58, 64), slice(0, 6)), (slice(58, 64), slice(58, 64)))]
print('mean weight overall %.3f; 6x6 corners TL TR BL BR %s; centre 20x20 %.3f' % (
    w.mean(), np.round(corners, 3), w[:, 22:42, 22:42].mean()))
