"""Classifier-free expression transfer for a finished run: the demo's folds re-run on the run's stage 1
(copied), with strength.strength_sums wrapped to also ask, per target person b and source expression e,
which of b's own expression changes P_b(c) the drawn change D(e) matches best (cosine); prints the share
matched to e, overall and by class (chance 1/K per person).
usage: template_judge.py RUN_DIR OUT_DIR [config flags]"""
import json, os, shutil, sys
import numpy as np
from relgan_jax.evaluation import strength

run, out = sys.argv[1], sys.argv[2]
if not os.path.exists(out):
  os.makedirs(out)
  shutil.copytree(os.path.join(run, 'pretrain'), os.path.join(out, 'pretrain'))
hits = {}
orig = strength.strength_sums

def wrapped(x_bar, source_expressions, target_persons, images, expressions, persons):
  xb, im = (np.asarray(a, np.float64) for a in (x_bar, images))
  for b in np.unique(target_persons):
    cells = []
    for e in np.unique(source_expressions[target_persons == b]):
      photos = np.flatnonzero((persons == b) & (expressions == e))
      if len(photos) >= 2:
        cells.append((int(e), xb[(target_persons == b) & (source_expressions == e)].mean(0), im[photos].mean(0)))
    if len(cells) < 2:
      continue
    labels, d, p = zip(*cells)
    d = np.stack(d); p = np.stack(p)
    d = (d - d.mean(0)).reshape(len(d), -1); p = (p - p.mean(0)).reshape(len(p), -1)
    cos = (d / np.linalg.norm(d, axis=1, keepdims=True)) @ (p / np.linalg.norm(p, axis=1, keepdims=True)).T
    for k, e in enumerate(labels):
      h = hits.setdefault(e, [0, 0]); h[0] += int(np.argmax(cos[k]) == k); h[1] += 1
  return orig(x_bar, source_expressions, target_persons, images, expressions, persons)

strength.strength_sums = wrapped
from absl import app
from relgan_jax import main as m
argv = ['main', '--config=configs/synthetic.py', f'--workdir={out}'] + sys.argv[3:]
try:
  app.run(m.main, argv=argv, flags_parser=m.parse_flags)
except SystemExit:
  pass
finally:
  tot = sum(h[0] for h in hits.values()), sum(h[1] for h in hits.values())
  print('TEMPLATE', out, 'all %.1f' % (100 * tot[0] / max(1, tot[1])), {e: round(100 * h[0] / h[1], 1) for e, h in sorted(hits.items())}, tot)
