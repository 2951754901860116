"""Evidence that f(e) carries expression, not identity (DESIGN §9, issue 14).

Paper names: `Ges` (expression encoder), `Get` (identity encoder), `Gde`
(decoder); `f(e) = Ges(x)`; `x_s` is the source face (gives the expression),
`x_t` the target face (gives the identity), `x_bar = Gde(Ges(x_s), Get(x_t))`.

Per fold (`run_fold`), beside stage 2's accuracies:

- identity leakage (`identity_probe`): a linear softmax-regression probe
  predicts identity from features, trained and tested on disjoint images of
  the fold's training people (`probe_split`); lower is better.
- retrieval (`retrieval`): each TEST image's nearest other test image
  (Euclidean, features standardised with the training split's centre-crop
  mean/std): how often it shows the same expression (higher is better) and
  the same person (lower is better). The test people are unseen, so this is
  what a code gives on new faces, with no classifier in between.
- the three feature sets of both: REL-GAN f(e), the CNN baseline's
  penultimate features and an untrained Ges (`untrained_ges`: the very Ges
  stage 1 starts from, G initialised from config.seed as train.py does).
  The same MLP trained on the untrained Ges's f(e) gives the accuracy
  table's reference row: how much stage 1 adds over random features.
- expression transfer (`reenactment_measures`): x_bar for pairs of test
  images of different people (`transfer_pairs`), read by the fold's CNN
  baseline (trained on other people, never on an x_bar): the share read as
  x_s's expression, beside the baseline's accuracy on the real test images
  (the ceiling) and 1/Ne (chance).
- identity kept / identity source: the share of x_bar whose nearest real
  test image in COARSE PIXELS (each image area-averaged to 16x16 RGB, every
  value standardised over the test images) is x_t's person (should be high)
  / x_s's person (should be low); identity_chance is x_t's person's share
  of the test images.
- expression strength (`strength.py`): how much of x_t's person's own
  change between expressions x_bar draws as x_s's expression changes.
- expression match (`strength.py`): how often that drawn change points to
  the person's own change for x_s's expression rather than for another one
  (cosine in pixels; chance 1/K for K expressions): expression transfer
  without a classifier, which stage 1's classifiers (De, the expression
  reader) cannot be trained to satisfy.

Why coarse pixels for identity: the test people are unseen, so no identity
classifier can be trained on them without their images, and no face-
recognition network ships with the project (one would need its own
validation on these faces and on generated ones). Among one fold's test
people, the cues that tell them apart in an aligned face are large: face
shape and size, skin tone, hair, glasses or beard, background, lighting. A
16x16 average keeps those and averages away most of what an expression
changes (a mouth or brow shape a few pixels high), so "whose photo is x_bar
nearest to" asks about the person, not the expression. Limits: copying x_t
whole scores identity_kept 100 (expression_transfer then exposes it), and
identity detail finer than 1/16 of the face is invisible to it.
"""

import functools
from typing import Any, Callable, Optional, Sequence

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from relgan_jax.data import input_pipeline
from relgan_jax.data import pairs as pairs_lib
from relgan_jax.evaluation import baseline as baseline_lib
from relgan_jax.evaluation import stage2
from relgan_jax.evaluation import strength
from relgan_jax.model import models
from relgan_jax.stage1 import reenactment

FEATURE_SETS = ('relgan', 'baseline', 'untrained_ges')
COARSE_SIDE = 16  # Side of the coarse-pixel identity space.


def person_keys(identities) -> np.ndarray:
  """Identity per image; an unknown identity (-1) is its own person."""
  identities = np.asarray(identities, np.int64)
  return np.where(identities >= 0, identities, -1 - np.arange(len(identities)))


# --- Retrieval ----------------------------------------------------------------


def nearest_neighbours(queries: np.ndarray,
                       gallery: Optional[np.ndarray] = None) -> np.ndarray:
  """Position of each query's nearest gallery row (Euclidean distance).

  With no gallery the queries are their own gallery and a query never
  retrieves itself.
  """
  q = np.asarray(queries, np.float64)
  g = q if gallery is None else np.asarray(gallery, np.float64)
  d = (q * q).sum(1)[:, None] - 2.0 * q @ g.T + (g * g).sum(1)[None, :]
  if gallery is None:
    np.fill_diagonal(d, np.inf)
  return d.argmin(axis=1)


def retrieval(f: np.ndarray, expression: np.ndarray, identity: np.ndarray,
              mean: np.ndarray, std: np.ndarray) -> dict[str, Optional[float]]:
  """Nearest-neighbour retrieval among the rows of `f` (each excluding itself).

  Args:
    f: [N, D] features of the test images (N >= 2).
    expression, identity: [N] labels (identity -1 = unknown).
    mean, std: the standardisation (the training split's statistics).

  Returns:
    {'same_expression': %, 'same_person': % (None when no identity is
    known)} of the images whose nearest neighbour shares it.
  """
  if len(f) < 2:
    raise ValueError(f'retrieval needs >= 2 images, got {len(f)}.')
  nn_ = nearest_neighbours((np.asarray(f, np.float64) - mean) / std)
  expression = np.asarray(expression)
  persons = person_keys(identity)
  known = np.asarray(identity) >= 0
  return {'same_expression': 100.0 * float(np.mean(expression[nn_]
                                                   == expression)),
          'same_person': (100.0 * float(np.mean(persons[nn_] == persons))
                          if known.any() else None)}


def retrieval_chance(expression: np.ndarray,
                     identity: np.ndarray) -> dict[str, Optional[float]]:
  """`retrieval`'s values for a neighbour drawn at random among the others."""
  out = {}
  for key, labels in (('same_expression', np.asarray(expression)),
                      ('same_person', person_keys(identity))):
    _, inverse, counts = np.unique(labels, return_inverse=True,
                                   return_counts=True)
    out[key] = 100.0 * float(np.mean((counts[inverse] - 1)
                                     / max(len(labels) - 1, 1)))
  if not (np.asarray(identity) >= 0).any():
    out['same_person'] = None
  return out


# --- Identity-leakage probe ---------------------------------------------------


class _Linear(nn.Module):
  num_classes: int

  @nn.compact
  def __call__(self, x, train: bool = False):
    del train
    return nn.Dense(self.num_classes)(x)


def probe_split(identities: np.ndarray, expressions: np.ndarray, *,
                seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Splits positions into two disjoint halves with the same identities.

  Each identity with >= 2 images gives alternate images (ordered by
  expression, then at random) to each half, so both halves hold every such
  identity and a spread of its expressions. Identities < 0 (unknown) and
  identities with a single image are left out.

  Returns:
    (probe_train, probe_test): int arrays of positions.
  """
  identities = np.asarray(identities)
  expressions = np.asarray(expressions)
  rng = np.random.default_rng(seed)
  first, second = [], []
  for identity in np.unique(identities):
    if identity < 0:
      continue
    pos = np.flatnonzero(identities == identity)
    if len(pos) < 2:
      continue
    pos = pos[np.lexsort((rng.random(len(pos)), expressions[pos]))]
    first.append(pos[0::2])
    second.append(pos[1::2])
  if not first:
    return np.zeros(0, np.int64), np.zeros(0, np.int64)
  return np.concatenate(first), np.concatenate(second)


def identity_probe(train_f: np.ndarray, train_id: np.ndarray,
                   test_f: np.ndarray, test_id: np.ndarray, *, seed: int,
                   epochs: int = 200, learning_rate: float = 1e-2,
                   weight_decay: float = 1e-4) -> dict[str, float]:
  """Linear (softmax-regression) identity classifier; accuracy on test.

  Returns:
    {'accuracy': % on the test images, 'chance': % of always guessing the
    most frequent training identity}.
  """
  classes, train_y = np.unique(train_id, return_inverse=True)
  lookup = {c: i for i, c in enumerate(classes)}
  test_y = np.array([lookup.get(c, -1) for c in test_id])
  clf = stage2.train_classifier(
      _Linear(len(classes)), train_f, train_y, epochs=epochs,
      batch_size=max(64, len(train_f) // 4), learning_rate=learning_rate,
      seed=seed, weight_decay=weight_decay)
  pred = clf.logits(test_f).argmax(axis=-1)
  majority = np.bincount(train_y).argmax()
  return {'accuracy': 100.0 * float(np.mean(pred == test_y)),
          'chance': 100.0 * float(np.mean(test_y == majority))}


def leakage(train: stage2.Features, seed: int) -> Optional[dict[str, float]]:
  """The identity probe on disjoint halves of the training identities'
  images; None when no identity has two images (e.g. SFEW)."""
  a, b = probe_split(train.identity, train.expression, seed=seed)
  if len(a) == 0 or len(b) == 0:
    return None
  return identity_probe(train.f[a], train.identity[a], train.f[b],
                        train.identity[b], seed=seed)


# --- The untrained reference --------------------------------------------------


class _GesInG(nn.Module):
  """Ges under the name it has inside G ('Ges'): flax derives a parameter's
  initial value from the init key and its path, so this init gives Ges the
  values G's init gives it, without initialising Get and Gde."""
  ges: models.Ges

  def setup(self):
    self.Ges = self.ges.clone(parent=None)

  def __call__(self, x):
    return self.Ges(x)


def untrained_ges(config: ml_collections.ConfigDict) -> tuple[models.Ges, Any]:
  """(Ges, variables) as stage 1 starts from them: the key
  gan_steps.create_state initialises G with (PRNGKey(config.seed) split in
  3, the second part), Ges's part."""
  g = models.build_generator(config)
  ges = models.Ges(image_size=g.image_size, width=g.width, norm=g.norm,
                   dtype=g.dtype, f_e_dim=g.f_e_dim, ops=g.ops)
  _, g_key, _ = jax.random.split(jax.random.PRNGKey(config.seed), 3)
  variables = models.init_on_images(_GesInG(ges), g_key, g.image_size)
  return ges, {name: collection['Ges']
               for name, collection in variables.items()}


# --- Reenactment: expression transfer and identity ----------------------------


def transfer_pairs(expressions: np.ndarray, identities: np.ndarray,
                   class_names: Sequence[str], *, targets_per_source: int,
                   max_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(x_s positions, x_t positions) of the expression-transfer pairs.

  Every image is a source x_s (person a, expression e) for
  `targets_per_source` other people b != a, drawn at random among those with
  an image whose expression is not e; x_t is such an image of b, a neutral
  one when the classes have 'neutral' and b has one. (As in stage 1's pairs:
  if x_t could show e, a decoder ignoring f(e) would be credited.) At most
  `max_pairs` pairs, a seeded subset. Unknown identities: each image is its
  own person.
  """
  expressions = np.asarray(expressions)
  persons = person_keys(identities)
  neutral = pairs_lib.neutral_class(class_names, missing=-1)
  rng = np.random.default_rng(seed)
  people = np.unique(persons)
  images_of = {p: np.flatnonzero(persons == p) for p in people}
  src, tgt = [], []
  for s, e in enumerate(expressions):
    found = 0
    for b in rng.permutation(people):
      if found == targets_per_source:
        break
      pool = images_of[b][expressions[images_of[b]] != e]
      if b == persons[s] or not len(pool):
        continue
      calm = pool[expressions[pool] == neutral]
      pool = calm if len(calm) else pool
      src.append(s)
      tgt.append(int(pool[rng.integers(len(pool))]))
      found += 1
  src, tgt = np.asarray(src, np.int64), np.asarray(tgt, np.int64)
  if len(src) > max_pairs:
    keep = np.sort(rng.choice(len(src), max_pairs, replace=False))
    src, tgt = src[keep], tgt[keep]
  return src, tgt


def coarse_pixels(images: np.ndarray, side: int = COARSE_SIDE) -> np.ndarray:
  """uint8 [N, S, S, 3] -> float64 [N, side * side * 3] area averages."""
  images = np.asarray(images, np.float64)
  n, h, w, c = images.shape
  if h % side or w % side:
    raise ValueError(f'coarse_pixels: {h}x{w} images do not split into '
                     f'{side}x{side} areas.')
  return images.reshape(n, side, h // side, side, w // side, c).mean(
      axis=(2, 4)).reshape(n, -1)


def _batched(fn: Callable, batch_size: int, *arrays: np.ndarray) -> np.ndarray:
  """fn over fixed-size batches (the last one padded: one compile)."""
  out = []
  for start in range(0, len(arrays[0]), batch_size):
    parts = [a[start:start + batch_size] for a in arrays]
    n = len(parts[0])
    parts = [np.concatenate([p, np.repeat(p[-1:], batch_size - n, axis=0)])
             for p in parts]
    out.append(np.asarray(fn(*parts))[:n])
  return np.concatenate(out)


def reenactment_measures(reenact_fn: Callable, images: np.ndarray,
                         expressions: np.ndarray, identities: np.ndarray,
                         pairs: tuple[np.ndarray, np.ndarray], *,
                         num_classes: int,
                         classify_fn: Optional[Callable] = None,
                         batch_size: int = 64) -> Optional[dict[str, Any]]:
  """Expression transfer and identity of x_bar = reenact_fn(x_s, x_t).

  Args:
    reenact_fn: (x_s, x_t uint8 [B, S, S, 3]) -> x_bar uint8 [B, S, S, 3].
    images: uint8 [N, S, S, 3] real test images: the sources, the targets
      and the gallery of the identity measure.
    expressions, identities: [N] labels of `images`.
    pairs: (x_s positions, x_t positions) into `images`.
    num_classes: Ne.
    classify_fn: uint8 images -> logits [B, Ne] (the fold's baseline), or
      None (no expression transfer then).
    batch_size: the fixed batch of reenact_fn and classify_fn.

  Returns:
    {'expression_transfer', 'expression_transfer_by_class' (a list by
    x_s's class, None where no source shows it), 'baseline_real_accuracy'
    (these three None without classify_fn), 'expression_chance',
    'identity_kept', 'identity_source', 'identity_chance' (all %),
    'num_pairs'}; None without pairs.
  """
  src, tgt = (np.asarray(p, np.int64) for p in pairs)
  if not len(src):
    return None
  expressions = np.asarray(expressions)
  persons = person_keys(identities)
  mean, std = stage2.standardizer(coarse_pixels(images))
  gallery = (coarse_pixels(images) - mean) / std
  x_bar = _batched(reenact_fn, batch_size, images[src], images[tgt])
  nearest = persons[nearest_neighbours((coarse_pixels(x_bar) - mean) / std,
                                       gallery)]
  _, inverse, counts = np.unique(persons, return_inverse=True,
                                 return_counts=True)
  out = {'expression_transfer': None, 'expression_transfer_by_class': None,
         'baseline_real_accuracy': None,
         'expression_chance': 100.0 / num_classes,
         'identity_kept': 100.0 * float(np.mean(nearest == persons[tgt])),
         'identity_source': 100.0 * float(np.mean(nearest == persons[src])),
         'identity_chance': 100.0 * float(np.mean(counts[inverse][tgt]
                                                  / len(images))),
         'num_pairs': int(len(src))}
  if classify_fn is not None:
    read = _batched(classify_fn, batch_size, x_bar).argmax(-1)
    real = _batched(classify_fn, batch_size, images).argmax(-1)
    out['expression_transfer'] = 100.0 * float(np.mean(read
                                                       == expressions[src]))
    out['expression_transfer_by_class'] = [
        100.0 * float(np.mean(read[expressions[src] == c] == c))
        if np.any(expressions[src] == c) else None
        for c in range(num_classes)]
    out['baseline_real_accuracy'] = 100.0 * float(np.mean(real
                                                          == expressions))
  return out


def reenactment_fns(config: ml_collections.ConfigDict, g_variables,
                    baseline: Optional[tuple[nn.Module, Any]] = None):
  """(reenact_fn, classify_fn) for `reenactment_measures`: G (one jitted
  apply; x_bar rounded to uint8 as a saved image would be) and the
  baseline's logits (None without a baseline)."""
  classify_fn = None
  if baseline is not None:
    encode = baseline_lib.encoder_fn(*baseline)
    classify_fn = lambda x: encode(x)[0]  # noqa: E731
  return (functools.partial(reenactment.pairs_uint8,
                            models.build_generator(config), g_variables),
          classify_fn)


# --- One fold -----------------------------------------------------------------


def run_fold(config: ml_collections.ConfigDict, dataset, train_indices,
             test_indices, handoff: dict[str, Any], *, g_variables,
             num_classes: int, seed: int) -> dict[str, Any]:
  """The fold's disentanglement measures, to add to its result.

  Args:
    config: the run config (config.stage2.transfer_* for the pairs).
    dataset: a PreparedDataset.
    train_indices, test_indices: the fold's records.
    handoff: what `stage2.run_fold` handed back (features, the baseline).
    g_variables: G's variables (None: no reenactment measures).
    num_classes: Ne.
    seed: the fold's seed.

  Returns:
    {'untrained_ges': {'accuracy', 'train_accuracy'}, 'identity_leakage':
    {'relgan', 'baseline', 'untrained_ges', 'chance'} or None, 'retrieval':
    {'relgan', 'baseline', 'untrained_ges', 'chance'} each {'same_expression',
    'same_person'} or None, 'reenactment': see `reenactment_measures`}.
  """
  s2 = config.stage2
  eval_bs = max(s2.mlp_batch_size, 8)
  encode = stage2.ges_encoder_fn(*untrained_ges(config))
  sets = {'relgan': (handoff['train'], handoff['test']),
          'baseline': (handoff.get('baseline_train'),
                       handoff.get('baseline_test')),
          'untrained_ges': tuple(
              stage2.extract_features(encode, dataset, idx, config,
                                      batch_size=eval_bs)
              for idx in (train_indices, test_indices))}
  u_train, u_test = sets['untrained_ges']
  views = stage2.augmented_features(encode, dataset, train_indices, config,
                                    views=s2.mlp_augment_views,
                                    seed=seed, batch_size=eval_bs)
  mlp = stage2.fit_mlp(*stage2.mlp_training_set(u_train, views), num_classes,
                       config, seed=seed)
  result = {'untrained_ges': {
      key: stage2.accuracy_and_confusion(
          split.expression, mlp.logits(split.f).argmax(-1), num_classes)[0]
      for key, split in (('accuracy', u_test), ('train_accuracy', u_train))}}
  found = {name: (None if train is None else leakage(train, seed))
           for name, (train, _) in sets.items()}
  result['identity_leakage'] = None if found['relgan'] is None else {
      **{name: None if v is None else v['accuracy']
         for name, v in found.items()},
      'chance': found['relgan']['chance']}
  test = handoff['test']
  result['retrieval'] = {
      name: (None if train is None or len(test) < 2 else retrieval(
          test_f.f, test_f.expression, test_f.identity,
          *stage2.standardizer(train.f)))
      for name, (train, test_f) in sets.items()}
  result['retrieval']['chance'] = retrieval_chance(test.expression,
                                                   test.identity)
  result['reenactment'] = None
  if g_variables is not None:
    result['reenactment'] = fold_reenactment(
        config, dataset, test_indices, test, g_variables,
        handoff.get('baseline'), num_classes=num_classes, seed=seed)
  return result


def fold_reenactment(config: ml_collections.ConfigDict, dataset, test_indices,
                     test: stage2.Features, g_variables,
                     baseline: Optional[tuple[nn.Module, Any]], *,
                     num_classes: int, seed: int) -> Optional[dict[str, Any]]:
  """`reenactment_measures` of G on a fold's test people: the seeded
  `transfer_pairs` (config.stage2.transfer_*) among `test` (their features,
  in the order of test_indices), x_bar of their centre crops, read by
  `baseline` ((module, variables) of the fold's CNN, or None); plus
  'expression_strength', 'expression_match' (with its chance and its
  reference on the photos, 'expression_match_photos') and each by class
  (`strength.py`) of x_bar from `strength_pairs`."""
  s2 = config.stage2
  eval_bs = max(s2.mlp_batch_size, 8)
  images = input_pipeline.centre_crops(dataset, test_indices, config, eval_bs)
  assert len(images) == len(test)  # Both in the order of test_indices.
  pairs = transfer_pairs(
      test.expression, test.identity, dataset.manifest['expression_classes'],
      targets_per_source=s2.transfer_targets,
      max_pairs=s2.transfer_max_pairs, seed=seed)
  reenact_fn, classify_fn = reenactment_fns(config, g_variables, baseline)
  out = reenactment_measures(
      reenact_fn, images, test.expression, test.identity, pairs,
      num_classes=num_classes, classify_fn=classify_fn, batch_size=eval_bs)
  if out is not None:
    persons = person_keys(test.identity)
    src, tgt = strength.strength_pairs(
        test.expression, persons, dataset.manifest['expression_classes'],
        sources=s2.strength_sources, seed=seed)
    out.update(dict.fromkeys((
        'expression_strength', 'expression_strength_by_class',
        'expression_match', 'expression_match_chance',
        'expression_match_by_class', 'expression_match_photos',
        'expression_match_photos_by_class')))
    if len(src):
      args = (_batched(reenact_fn, eval_bs, images[src], images[tgt]),
              test.expression[src], persons[tgt], images, test.expression,
              persons)
      sums = strength.strength_sums(*args)
      out['expression_strength'] = strength.expression_strength(sums)
      out['expression_strength_by_class'] = strength.strength_by_expression(
          sums, num_classes)
      counts = strength.match_counts(*args)
      out['expression_match'], out['expression_match_chance'] = (
          strength.expression_match(counts))
      out['expression_match_by_class'] = strength.match_by_expression(
          counts, num_classes)
      counts = strength.photo_match_counts(*args)
      out['expression_match_photos'] = strength.expression_match(counts)[0]
      out['expression_match_photos_by_class'] = strength.match_by_expression(
          counts, num_classes)
  return out
