"""Where does the frozen reader's perceptual term push x_bar? |d loss / d x_bar|
averaged over a batch of real faces (x_bar = x_tg blurred), by position."""
import sys
import jax, jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models, losses
from relgan_jax.stage1 import checkpointing, expression_reader
from relgan_jax.data import records

run = sys.argv[1]
state, _ = checkpointing.load_state_tree(run + '/pretrain')
reader_vars = state['reader']
ds = records.PreparedDataset('data/synthetic_pretrain')
idx = np.arange(0, 3584, 112)[:32]
imgs = np.stack([ds[int(i)]['image'] for i in idx])  # stored side
s = imgs.shape[1]; c0 = (s - 64) // 2
x = imgs[:, c0:c0 + 64, c0:c0 + 64].astype(np.float32) / 127.5 - 1
for impl in ('fast', 'xla'):
  config = synthetic.get_config(); config.model.conv_impl = impl
  model = models.build_classifier(config, 7)
  real = expression_reader.block_features(model, reader_vars, jnp.asarray(x))
  def loss(xb):
    return losses.reader_feature_loss(expression_reader.block_features(model, reader_vars, xb), real)
  # x_bar: the real faces blurred (a 3x3 box), as G's blurred drawings.
  xb = jnp.asarray(x)
  xb = (jnp.roll(xb, 1, 1) + xb + jnp.roll(xb, -1, 1)) / 3
  xb = (jnp.roll(xb, 1, 2) + xb + jnp.roll(xb, -1, 2)) / 3
  g = np.abs(np.asarray(jax.grad(loss)(xb))).mean(axis=(0, 3))
  m = g.mean()
  print(impl, 'mean', f'{m:.3e}', 'corners TL TR BL BR (3x3 mean / overall):',
        [round(float(g[a:a+3, b:b+3].mean() / m), 2) for a, b in ((0, 0), (0, 61), (61, 0), (61, 61))],
        'max at', np.unravel_index(g.argmax(), g.shape), round(float(g.max() / m), 1))

# Does a saturated blob in one corner lower the term for blurred faces?
config = synthetic.get_config()
model = models.build_classifier(config, 7)
real = expression_reader.block_features(model, reader_vars, jnp.asarray(x))
def per_block(xb):
  fake = expression_reader.block_features(model, reader_vars, xb)
  return [float(losses.reader_feature_loss([f], [r])) for f, r in zip(fake, real)]
xb = jnp.asarray(x)
xb = (jnp.roll(xb, 1, 1) + xb + jnp.roll(xb, -1, 1)) / 3
xb = (jnp.roll(xb, 1, 2) + xb + jnp.roll(xb, -1, 2)) / 3
print('blurred      ', np.round(per_block(xb), 4), round(float(np.mean(per_block(xb))), 4))
for name, colour in (('yellow', (1., 1., -1.)), ('green', (-1., 1., -1.)), ('black', (-1., -1., -1.))):
  for where in ('TL', 'BR'):
    blob = np.array(xb)
    sl = (slice(0, 3), slice(0, 3)) if where == 'TL' else (slice(61, 64), slice(61, 64))
    blob[:, sl[0], sl[1]] = colour
    pb = per_block(jnp.asarray(blob))
    print(f'{name:6s} {where}', np.round(pb, 4), round(float(np.mean(pb)), 4))
