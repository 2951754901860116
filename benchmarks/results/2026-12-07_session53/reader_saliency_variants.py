"""Variants of the reader-saliency change map (reader_saliency_check.py):
the share of the weight in the expression's region and the pixel term's
weight at the 6x6 corners (over the image's mean weight) at α = 16.

  python benchmarks/results/2026-12-07_session53/reader_saliency_variants.py STAGE1_WORKDIR
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np

sys.argv = sys.argv[:2]
exec(open(__file__.replace('_variants', '_check')).read().split("print('expr")[0])


def weight(c, alpha=16.0):
  c = c / c.mean()
  return (1 + alpha * c) / (1 + alpha)


corners = np.zeros((64, 64), bool)
for r in (slice(0, 6), slice(58, 64)):
  for q in (slice(0, 6), slice(58, 64)):
    corners[r, q] = True
names = ['pair', 'pair*sal', 'pair*sqrt(sal)', '(pair + pair*sal)/2']
print('expr     ', ' | '.join(f'{n}: region, corner w' for n in names))
for e in range(1, 7):
  rows = []
  for ident in range(40, 52):
    for k in (1, 3):
      t, tg = prep(ss.render_image(1, ident, 0, 0, 0)), prep(
          ss.render_image(1, ident, e, k, 1))
      t0 = prep(ss.render_image(1, ident, 0, 0, 0, jitter=False))
      tg0 = prep(ss.render_image(1, ident, e, k, 0, jitter=False))
      region = box5(np.abs(tg0 - t0).mean(-1)) > 0.02
      pair = box5(np.abs(tg - t).mean(-1))
      s_ce = np.asarray(saliencies(jnp.asarray(tg), e)[0])
      sal = box5(s_ce)
      p, s = pair / pair.mean(), sal / sal.mean()
      row = []
      for m in (p, p * s, p * np.sqrt(s), (p + p * s) / 2):
        w = weight(m)
        row += [(m * region).sum() / m.sum(), w[corners].mean() / w.mean()]
      rows.append(row)
  print(f'{EXPRESSION_CLASSES[e]:9s}', ' '.join(f'{x:.3f}' for x in np.mean(rows, 0)))
