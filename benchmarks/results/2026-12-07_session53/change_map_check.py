"""How well the pixel term's change map c marks where the expression changes
the face, on synthetic pairs (x_t neutral, x_tg of person b at expression e,
each with its own per-image jitter), against the pure expression change (the
same two drawings without jitter). c as losses.change_map computes it, and a
shift-tolerant variant (min over 3x3 shifts of x_t)."""
import numpy as np
from PIL import Image
from relgan_jax.data import synthetic_set as ss
from relgan_jax.data.synthetic_people import EXPRESSION_CLASSES

def prep(img):  # 112 stored -> 64 px, [-1, 1]
  return np.asarray(Image.fromarray(img).resize((64, 64), Image.BILINEAR), np.float32) / 127.5 - 1

def box5(d):
  p = np.pad(d, 2)
  return sum(p[i:i + 64, j:j + 64] for i in range(5) for j in range(5)) / 25

def shift_min(tg, t):
  p = np.pad(t, ((1, 1), (1, 1), (0, 0)), mode='edge')
  return np.min([np.abs(tg - p[i:i + 64, j:j + 64]).mean(-1)
                 for i in range(3) for j in range(3)], axis=0)

def cos(a, b):
  return float((a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum()))

rows = {}
for e in range(1, 7):
  res = []
  for ident in range(12):
    for inten in (1, 3):
      t = prep(ss.render_image(0, ident, 0, 0, 0))
      tg = prep(ss.render_image(0, ident, e, inten, 1))
      t0 = prep(ss.render_image(0, ident, 0, 0, 0, jitter=False))
      tg0 = prep(ss.render_image(0, ident, e, inten, 0, jitter=False))
      pure = box5(np.abs(tg0 - t0).mean(-1))
      raw = box5(np.abs(tg - t).mean(-1))
      tol = box5(shift_min(tg, t))
      mask = pure > 0.02
      res.append([cos(raw, pure), cos(tol, pure),
                  (raw * mask).sum() / raw.sum(), (tol * mask).sum() / tol.sum(),
                  mask.mean()])
  rows[EXPRESSION_CLASSES[e]] = np.mean(res, 0)
print('expr      cos(raw,pure) cos(tol,pure) share_raw_in_mask share_tol_in_mask mask_frac')
for k, v in rows.items():
  print(f'{k:9s}', ' '.join(f'{x:13.3f}' for x in v))

# What c is made of where the expression does not change: two jittered copies
# of one neutral face; and the same drawings without jitter but with noise only?
t = prep(ss.render_image(0, 3, 0, 0, 0)); t2 = prep(ss.render_image(0, 3, 0, 0, 1))
tg = prep(ss.render_image(0, 3, 5, 3, 1))
t0 = prep(ss.render_image(0, 3, 0, 0, 0, jitter=False)); tg0 = prep(ss.render_image(0, 3, 5, 3, 0, jitter=False))
jit = box5(np.abs(t2 - t).mean(-1)); raw = box5(np.abs(tg - t).mean(-1)); pure = box5(np.abs(tg0 - t0).mean(-1))
print('mean c: neutral copies', jit.mean(), ' sadness pair', raw.mean(), ' pure sadness', pure.mean())
print('std of a jittered copy minus its unjittered drawing (misalignment, yaw, flicker, noise)', np.std(t - t0))
tile = np.concatenate([jit, raw, pure], 1)
Image.fromarray((np.clip(tile / tile.max(), 0, 1) * 255).astype(np.uint8)).resize((192 * 3, 192), Image.NEAREST).save(__import__('os').path.join(__import__('os').path.dirname(__file__), 'change_maps.png'))
