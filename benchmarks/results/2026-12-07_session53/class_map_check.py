"""The change map from the class's mean (over people) instead of the pair:
how much of it lies where the expression changes a held-out person's face."""
import numpy as np
import sys
sys.path.insert(0, __import__('os').path.dirname(__file__))
from change_map_check import prep, box5, cos  # noqa (runs that script's table too)
from relgan_jax.data import synthetic_set as ss

def pair(ident, e, inten, copy):
  t = prep(ss.render_image(1, ident, 0, 0, copy))
  tg = prep(ss.render_image(1, ident, e, inten, copy + 1))
  return box5(np.abs(tg - t).mean(-1))

train = {e: np.mean([pair(i, e, k, 0) for i in range(40) for k in (1, 2, 3)], 0) for e in range(1, 7)}
floor = np.min(list(train.values()), 0)
print('expr  cos(pair c) cos(class mean) cos(class - floor) | share in mask: pair, class, class-floor')
for e in range(1, 7):
  r = []
  for ident in range(40, 52):
    for k in (1, 3):
      t0 = prep(ss.render_image(1, ident, 0, 0, 0, jitter=False))
      tg0 = prep(ss.render_image(1, ident, e, k, 0, jitter=False))
      pure = box5(np.abs(tg0 - t0).mean(-1)); mask = pure > 0.02
      c = pair(ident, e, k, 2); m = train[e]; p = np.maximum(m - floor, 0) + 1e-6
      r.append([cos(c, pure), cos(m, pure), cos(p, pure), (c*mask).sum()/c.sum(), (m*mask).sum()/m.sum(), (p*mask).sum()/p.sum()])
  print(e, ' '.join(f'{x:.3f}' for x in np.mean(r, 0)))
