r"""How hard is the synthetic set? Linear classifiers on raw pixels.

Ridge regression to one-hot targets and softmax regression (numpy, full-batch
gradient descent), on raw 32x32 grayscale pixels of the stored faces
(standardised per pixel on the training part), for:

* expression, subject-independent: train on the other folds' people, test on
  one fold's people (the protocol's setting), averaged over --folds folds;
* expression, image-level random split of the same test share (people seen in
  training), for contrast;
* identity: held-out images of the training people (half of each person's
  images per split), as the identity-leakage probe does.

  python -m benchmarks.synthetic_linear_probe --data_dir=data/synthetic

Prints one JSON object with accuracies (%) and chance levels.
"""

import json

from absl import flags
import numpy as np
from PIL import Image

from relgan_jax import cli
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import records

flags.DEFINE_string('data_dir', None, 'Prepared synthetic set.', required=True)
flags.DEFINE_integer('folds', 3, 'Subject-independent folds to average.')
flags.DEFINE_integer('side', 32, 'Pixels per side of the grayscale input.')
FLAGS = flags.FLAGS


def load_pixels(dataset, side: int) -> np.ndarray:
  out = np.empty((len(dataset), side * side), np.float32)
  for i in range(len(dataset)):
    img = Image.fromarray(dataset[i]['image']).convert('L')
    out[i] = np.asarray(img.resize((side, side), Image.Resampling.BILINEAR),
                        np.float32).ravel()
  return out


def _standardise(train, test):
  mean, std = train.mean(0), train.std(0) + 1e-3
  return (train - mean) / std, (test - mean) / std


def ridge_accuracy(x_tr, y_tr, x_te, y_te, num_classes, lam=100.0) -> float:
  x_tr, x_te = _standardise(x_tr, x_te)
  x_tr = np.concatenate([x_tr, np.ones((len(x_tr), 1), np.float32)], 1)
  x_te = np.concatenate([x_te, np.ones((len(x_te), 1), np.float32)], 1)
  targets = np.eye(num_classes, dtype=np.float32)[y_tr]
  w = np.linalg.solve(x_tr.T @ x_tr + lam * np.eye(x_tr.shape[1]), x_tr.T @ targets)
  return float(100 * np.mean((x_te @ w).argmax(1) == y_te))


def softmax_accuracy(x_tr, y_tr, x_te, y_te, num_classes, steps=300, lr=0.5,
                     l2=1e-3) -> float:
  x_tr, x_te = _standardise(x_tr, x_te)
  n, d = x_tr.shape
  w, b = np.zeros((d, num_classes), np.float32), np.zeros(num_classes, np.float32)
  onehot = np.eye(num_classes, dtype=np.float32)[y_tr]
  for _ in range(steps):
    logits = x_tr @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    g = (p - onehot) / n
    w -= lr * (x_tr.T @ g / d ** 0.5 + l2 * w)
    b -= lr * g.sum(0)
  return float(100 * np.mean((x_te @ w + b).argmax(1) == y_te))


def main(argv):
  del argv
  ds = records.PreparedDataset(FLAGS.data_dir)
  x = load_pixels(ds, FLAGS.side)
  expr, ident = ds.expressions, ds.identities
  n_expr, n_id = len(ds.expression_classes), int(ident.max()) + 1
  result = dict(data_dir=FLAGS.data_dir, records=len(ds), pixels=FLAGS.side ** 2,
                chance_expression=round(100 / n_expr, 1),
                chance_identity=round(100 / n_id, 1))

  def both(tr, te, y, k):
    return dict(ridge=ridge_accuracy(x[tr], y[tr], x[te], y[te], k),
                softmax=softmax_accuracy(x[tr], y[tr], x[te], y[te], k))

  per_fold = [both(*folds_lib.split_indices(ds, f), expr, n_expr)
              for f in range(FLAGS.folds)]
  result['expression_unseen_people'] = {
      m: round(float(np.mean([r[m] for r in per_fold])), 1) for m in per_fold[0]}
  rng = np.random.default_rng(0)
  perm = rng.permutation(len(ds))
  cut = len(ds) // ds.num_folds  # Same test share as one fold.
  result['expression_seen_people'] = {
      m: round(v, 1) for m, v in both(perm[cut:], perm[:cut], expr, n_expr).items()}
  # Identity: alternate each person's images between the two halves.
  order = np.lexsort((rng.random(len(ds)), ident))
  rank = np.empty(len(ds), int)
  rank[order] = np.arange(len(ds))
  tr, te = np.flatnonzero(rank % 2 == 0), np.flatnonzero(rank % 2 == 1)
  result['identity_heldout_images'] = {
      m: round(v, 1) for m, v in both(tr, te, ident, n_id).items()}
  print(json.dumps(result, indent=1))


if __name__ == '__main__':
  cli.absl_run('benchmarks.synthetic_linear_probe', main,
                 user_errors=(FileNotFoundError,))
