"""Stage 2 (DESIGN §5): recognition on the frozen expression code, the CNN
baseline, and the identity-leakage probe.

Paper names: `Ges` is the expression encoder trained in stage 1 and frozen here;
`f(e) = Ges(x)` (`f_e`) is its 30-d expression code; `Get`/`Gde` (identity
encoder, decoder) are not used in stage 2.

- `extract_features`: f(e) of every record of a split with the frozen Ges
  (centre crop, or the mean over the five crops when
  config.augment.five_crop_eval).
- `train_mlp` / `evaluate`: the MLP of DESIGN §2 on f(e) (config.stage2.mlp_*,
  Adam, dropout), features standardised with the training split's mean/std.
- `train_baseline`: the paper's "CNN (baseline)": the Ges trunk + one Dense to
  Ne, trained end to end with cross-entropy on augmented single images
  (config.stage2.baseline_*).
- `identity_probe`: a linear softmax-regression classifier predicting identity
  from features; `probe_split` makes its disjoint train/test images from the
  fold's training identities (lower accuracy = less identity in the features).
- `run_fold`: all of the above for one fold, returning the fold's result dict.
"""

import dataclasses
import functools
import math
from typing import Any, Callable, Iterator, Optional

from absl import logging
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from relgan_jax import augment
from relgan_jax import input_pipeline
from relgan_jax import models


@dataclasses.dataclass(frozen=True)
class Features:
  """Per-record features of one split.

  Attributes:
    f: float32 [N, D] features (f(e) or baseline penultimate features).
    expression: int32 [N] expression labels.
    identity: int32 [N] identity labels (-1 = unknown).
    index: int32 [N] record indices into the PreparedDataset.
  """
  f: np.ndarray
  expression: np.ndarray
  identity: np.ndarray
  index: np.ndarray

  def __len__(self):
    return len(self.index)


# --- Feature extraction ------------------------------------------------------


def _as_variables(params) -> dict[str, Any]:
  """Accepts bare params or a full variables dict ({'params': ..., ...})."""
  if isinstance(params, dict) and 'params' in params:
    return params
  return {'params': params}


def ges_encoder_fn(ges_module: nn.Module, ges_params) -> Callable:
  """A jitted images(uint8 [B, S, S, 3]) -> f(e) [B, D] function."""
  variables = _as_variables(ges_params)

  @jax.jit
  def encode(variables, images):
    return ges_module.apply(variables, input_pipeline.normalize(images),
                            train=False)

  return functools.partial(encode, variables)


def extract_features(encode_fn: Callable, dataset, record_indices,
                     config: ml_collections.ConfigDict, *,
                     batch_size: int = 64,
                     five_crop: Optional[bool] = None) -> Features:
  """Runs `encode_fn` over the records `record_indices` (unaugmented).

  Args:
    encode_fn: uint8 images [B, S, S, 3] -> features [B, D].
    dataset: a PreparedDataset.
    record_indices: the records to encode.
    config: the run config (image size, config.augment.five_crop_eval).
    batch_size: evaluation batch size (fixed: one compile).
    five_crop: average the features over the five crops; default
      config.augment.five_crop_eval.

  Returns:
    Features in the order of `record_indices`.
  """
  if five_crop is None:
    five_crop = bool(config.augment.five_crop_eval)
  feats, exprs, ids, idx = [], [], [], []
  for batch in input_pipeline.eval_batches(dataset, np.asarray(record_indices),
                                           config, batch_size=batch_size,
                                           five_crop=five_crop):
    images = np.asarray(batch['image'])
    if five_crop:
      b, k = images.shape[:2]
      f = np.asarray(encode_fn(images.reshape((b * k,) + images.shape[2:])))
      f = f.reshape(b, k, -1).mean(axis=1)
    else:
      f = np.asarray(encode_fn(images))
    mask = np.asarray(batch['mask'], bool)
    feats.append(f[mask])
    exprs.append(np.asarray(batch['expression'])[mask])
    ids.append(np.asarray(batch['identity'])[mask])
    idx.append(np.asarray(batch['index'])[mask])
  if not feats:
    raise ValueError('extract_features: no records given.')
  return Features(np.concatenate(feats).astype(np.float32),
                  np.concatenate(exprs).astype(np.int32),
                  np.concatenate(ids).astype(np.int32),
                  np.concatenate(idx).astype(np.int32))


# --- Classifiers on feature arrays -------------------------------------------


@dataclasses.dataclass
class Classifier:
  """A trained classifier on standardised features."""
  module: nn.Module
  params: Any
  mean: np.ndarray
  std: np.ndarray

  def logits(self, f: np.ndarray) -> np.ndarray:
    z = (np.asarray(f, np.float32) - self.mean) / self.std
    return np.asarray(_apply_eval(self.module, self.params, z))


@functools.partial(jax.jit, static_argnums=0)
def _apply_eval(module, params, z):
  return module.apply({'params': params}, z, train=False)


def _standardizer(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  mean = f.mean(axis=0)
  std = f.std(axis=0)
  return mean.astype(np.float32), np.maximum(std, 1e-6).astype(np.float32)


def _epoch_batches(rng: np.random.Generator, n: int,
                   batch_size: int) -> np.ndarray:
  """[ceil(n / B), B] indices: a permutation, the last batch filled up with
  the start of a second permutation so every step has a full batch."""
  steps = max(1, math.ceil(n / batch_size))
  order = rng.permutation(n)
  while len(order) < steps * batch_size:
    order = np.concatenate([order, rng.permutation(n)])
  return order[:steps * batch_size].reshape(steps, batch_size)


def train_classifier(module: nn.Module, f: np.ndarray, labels: np.ndarray, *,
                     epochs: int, batch_size: int, learning_rate: float,
                     seed: int, weight_decay: float = 0.0) -> Classifier:
  """Trains `module` (features -> logits; may use 'dropout') with Adam + CE.

  Features are standardised with their own mean/std (kept in the result).
  One jitted program per epoch (a scan over its minibatches).
  """
  f = np.asarray(f, np.float32)
  labels = np.asarray(labels, np.int32)
  if f.ndim != 2 or len(f) != len(labels) or len(f) == 0:
    raise ValueError(f'train_classifier: features {f.shape} and labels '
                     f'{labels.shape} do not match (or are empty).')
  mean, std = _standardizer(f)
  z = jnp.asarray((f - mean) / std)
  y = jnp.asarray(labels)
  batch_size = min(batch_size, len(f))
  key = jax.random.key(seed)
  init_key, drop_key = jax.random.split(key)
  params = jax.jit(functools.partial(module.init, train=False))(
      init_key, z[:1])['params']
  tx = (optax.adamw(learning_rate, weight_decay=weight_decay) if weight_decay
        else optax.adam(learning_rate))
  opt_state = tx.init(params)

  @jax.jit
  def run_epoch(params, opt_state, batches, epoch):
    def step(carry, inputs):
      params, opt_state = carry
      i, idx = inputs
      rng = jax.random.fold_in(jax.random.fold_in(drop_key, epoch), i)

      def loss_fn(p):
        logits = module.apply({'params': p}, z[idx], train=True,
                              rngs={'dropout': rng})
        return optax.softmax_cross_entropy_with_integer_labels(
            logits, y[idx]).mean()

      loss, grads = jax.value_and_grad(loss_fn)(params)
      updates, opt_state = tx.update(grads, opt_state, params)
      return (optax.apply_updates(params, updates), opt_state), loss

    steps = jnp.arange(batches.shape[0])
    (params, opt_state), losses = jax.lax.scan(step, (params, opt_state),
                                               (steps, batches))
    return params, opt_state, losses.mean()

  rng = np.random.default_rng(seed)
  loss = float('nan')
  for epoch in range(epochs):
    batches = jnp.asarray(_epoch_batches(rng, len(f), batch_size))
    params, opt_state, loss = run_epoch(params, opt_state, batches, epoch)
  logging.info('train_classifier %s: %d epochs, final loss %.4f',
               type(module).__name__, epochs, float(loss))
  return Classifier(module, params, mean, std)


def build_mlp(config: ml_collections.ConfigDict, num_classes: int) -> models.MLP:
  """The stage-2 MLP of DESIGN §2 from config.stage2."""
  return models.MLP(num_expressions=num_classes,
                    hidden=tuple(config.stage2.mlp_hidden),
                    dropout_rate=config.stage2.dropout)


def train_mlp(train: Features, num_classes: int,
              config: ml_collections.ConfigDict, *, seed: int) -> Classifier:
  """Trains the stage-2 MLP on f(e) of the fold's training records."""
  return train_classifier(build_mlp(config, num_classes), train.f,
                          train.expression, epochs=config.stage2.mlp_epochs,
                          batch_size=config.stage2.mlp_batch_size,
                          learning_rate=config.stage2.mlp_lr, seed=seed)


def accuracy_and_confusion(labels: np.ndarray, predictions: np.ndarray,
                           num_classes: int) -> tuple[float, np.ndarray]:
  """Accuracy in % and the confusion matrix (rows true, columns predicted)."""
  labels = np.asarray(labels, np.int64)
  predictions = np.asarray(predictions, np.int64)
  confusion = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(confusion, (labels, predictions), 1)
  acc = 100.0 * float(np.mean(labels == predictions)) if len(labels) else 0.0
  return acc, confusion


# --- Identity-leakage probe ----------------------------------------------------


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
  clf = train_classifier(_Linear(len(classes)), train_f, train_y,
                         epochs=epochs, batch_size=max(64, len(train_f) // 4),
                         learning_rate=learning_rate, seed=seed,
                         weight_decay=weight_decay)
  pred = clf.logits(test_f).argmax(axis=-1)
  majority = np.bincount(train_y).argmax()
  return {'accuracy': 100.0 * float(np.mean(pred == test_y)),
          'chance': 100.0 * float(np.mean(test_y == majority))}


# --- CNN baseline --------------------------------------------------------------


def build_baseline(config: ml_collections.ConfigDict,
                   num_classes: int) -> models.CNNBaseline:
  """The paper's "CNN (baseline)": the Ges trunk + one Dense to Ne."""
  m = config.model
  models.check_model_config(m)
  return models.CNNBaseline(image_size=m.image_size, width=m.width,
                            norm=m.norm, dtype=jnp.dtype(m.dtype),
                            num_expressions=num_classes,
                            conv_impl=m.get('conv_impl', 'xla'))


def _augmented_batches(dataset, record_indices, config, *, batch_size: int,
                       seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
  """Endless (uint8 images [B, S, S, 3], expressions [B]) batches, one
  augmented image per sample (the §4 augmentation of `augment.py`: crop place,
  rotation, flip), reshuffled every epoch, a pure function of `seed`.

  The training faces are decoded once and kept in memory (resized to the
  margin side), so each step only crops, rotates and flips.
  """
  record_indices = np.asarray(record_indices)
  size = int(config.model.image_size)
  side = augment.margin_side(size, config.augment.margin_ratio)
  faces = np.stack([augment.resize(dataset[int(i)]['image'], side)
                    for i in record_indices])
  labels = np.asarray(dataset.expressions)[record_indices].astype(np.int32)
  rotations = tuple(float(r) for r in config.augment.rotations)
  epoch = 0
  while True:
    rng = np.random.default_rng([seed, epoch])
    for batch in _epoch_batches(rng, len(record_indices), batch_size):
      images = np.stack([augment.apply(
          faces[j], augment.draw_geometry(
              rng, five_crops=bool(config.augment.five_crops),
              rotations=rotations, flip=bool(config.augment.flip)),
          size, side) for j in batch])
      yield images, labels[batch]
    epoch += 1


def train_baseline(config: ml_collections.ConfigDict, dataset, train_indices,
                   num_classes: int, *, seed: int):
  """Trains the CNN baseline end to end with cross-entropy.

  Args:
    config: the run config (config.model, config.stage2.baseline_*).
    dataset: a PreparedDataset.
    train_indices: the fold's training records (never a test subject's).
    num_classes: Ne.
    seed: initialisation and data-order seed.

  Returns:
    (module, variables) of the trained baseline.
  """
  train_indices = np.asarray(train_indices)
  module = build_baseline(config, num_classes)
  s2 = config.stage2
  batch_size = min(s2.baseline_batch_size, len(train_indices))
  num_steps = s2.baseline_epochs * math.ceil(len(train_indices) / batch_size)
  size = config.model.image_size
  variables = jax.jit(functools.partial(module.init, train=False))(
      jax.random.key(seed), jnp.zeros((1, size, size, 3), jnp.float32))
  params = variables['params']
  extra = {k: v for k, v in variables.items() if k != 'params'}  # BatchNorm.
  tx = optax.adam(s2.baseline_lr)
  opt_state = tx.init(params)

  @functools.partial(jax.jit, donate_argnums=(0, 1, 2))
  def train_step(params, extra, opt_state, images, labels):
    def loss_fn(p):
      logits, new_extra = module.apply(
          {'params': p, **extra}, input_pipeline.normalize(images),
          train=True, mutable=list(extra))
      loss = optax.softmax_cross_entropy_with_integer_labels(
          logits, labels).mean()
      return loss, (new_extra, jnp.mean(logits.argmax(-1) == labels))

    (loss, (new_extra, acc)), grads = jax.value_and_grad(
        loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), new_extra, opt_state, loss, acc

  batches = _augmented_batches(dataset, train_indices, config,
                               batch_size=batch_size, seed=seed)
  log_every = max(1, num_steps // 5)
  for step in range(num_steps):
    images, labels = next(batches)
    params, extra, opt_state, loss, acc = train_step(
        params, extra, opt_state, jnp.asarray(images),
        jnp.asarray(labels, jnp.int32))
    if (step + 1) % log_every == 0 or step + 1 == num_steps:
      logging.info('baseline step %d/%d: loss %.4f, batch accuracy %.3f',
                   step + 1, num_steps, float(loss), float(acc))
  return module, {'params': params, **extra}


def baseline_encoder_fn(module: models.CNNBaseline, variables) -> Callable:
  """A jitted images -> (logits, penultimate features) function."""

  @jax.jit
  def encode(variables, images):
    return module.apply(variables, input_pipeline.normalize(images),
                        train=False, return_features=True)

  return functools.partial(encode, variables)


# --- One fold ----------------------------------------------------------------


def _leakage(train: Features, seed: int) -> Optional[dict[str, float]]:
  """The identity probe on disjoint halves of the training identities'
  images; None when no identity has two images (e.g. SFEW)."""
  a, b = probe_split(train.identity, train.expression, seed=seed)
  if len(a) == 0 or len(b) == 0:
    return None
  return identity_probe(train.f[a], train.identity[a], train.f[b],
                        train.identity[b], seed=seed)


def run_fold(config: ml_collections.ConfigDict, dataset, train_indices,
             test_indices, ges_module: nn.Module, ges_params, *,
             num_classes: int, seed: int,
             classifier_dir: Optional[str] = None) -> dict[str, Any]:
  """Stage 2 and the baseline on one fold.

  Args:
    config: the run config.
    dataset: a PreparedDataset.
    train_indices: the fold's training records.
    test_indices: the fold's test records (unseen subjects).
    ges_module, ges_params: the frozen expression encoder Ges.
    num_classes: Ne.
    seed: the fold's seed.
    classifier_dir: where to save the trained MLP for `relgan_jax.predict`
      (`inference.save_classifier`); None = not saved.

  Returns:
    {'relgan': {'accuracy', 'train_accuracy', 'confusion_matrix'},
     'baseline': same or None, 'identity_leakage': {'relgan', 'baseline',
     'chance'} or None}; accuracies in %.
  """
  eval_bs = max(config.stage2.mlp_batch_size, 8)
  encode = ges_encoder_fn(ges_module, ges_params)
  train = extract_features(encode, dataset, train_indices, config,
                           batch_size=eval_bs)
  test = extract_features(encode, dataset, test_indices, config,
                          batch_size=eval_bs)
  mlp = train_mlp(train, num_classes, config, seed=seed)
  if classifier_dir:
    # Imported here: inference pulls in face detection, which stage 2 needs
    # only when it saves a model for predict.
    from relgan_jax import inference  # pylint: disable=g-import-not-at-top
    inference.save_classifier(classifier_dir, mlp, config=config,
                              manifest=dataset.manifest)
  acc, cm = accuracy_and_confusion(
      test.expression, mlp.logits(test.f).argmax(-1), num_classes)
  train_acc, _ = accuracy_and_confusion(
      train.expression, mlp.logits(train.f).argmax(-1), num_classes)
  result = {'relgan': {'accuracy': acc, 'train_accuracy': train_acc,
                       'confusion_matrix': cm.tolist()},
            'baseline': None}
  leak_relgan = _leakage(train, seed)
  leak_baseline = None
  if config.stage2.run_baseline:
    module, variables = train_baseline(config, dataset, train_indices,
                                       num_classes, seed=seed)
    encode_b = baseline_encoder_fn(module, variables)
    logits_fn = lambda x: encode_b(x)[0]  # noqa: E731
    features_fn = lambda x: encode_b(x)[1]  # noqa: E731
    test_logits = extract_features(logits_fn, dataset, test_indices, config,
                                   batch_size=eval_bs)
    b_acc, b_cm = accuracy_and_confusion(
        test_logits.expression, test_logits.f.argmax(-1), num_classes)
    b_train = extract_features(features_fn, dataset, train_indices, config,
                               batch_size=eval_bs)
    result['baseline'] = {'accuracy': b_acc, 'confusion_matrix': b_cm.tolist()}
    leak_baseline = _leakage(b_train, seed)
  if leak_relgan is None:
    result['identity_leakage'] = None
  else:
    result['identity_leakage'] = {
        'relgan': leak_relgan['accuracy'],
        'baseline': leak_baseline['accuracy'] if leak_baseline else None,
        'chance': leak_relgan['chance']}
  return result
