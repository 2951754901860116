"""Stage 2 (DESIGN §5): recognition on the frozen expression code and the CNN
baseline.

Paper names: `Ges` is the expression encoder trained in stage 1 and frozen here;
`f(e) = Ges(x)` (`f_e`) is its 30-d expression code; `Get`/`Gde` (identity
encoder, decoder) are not used in stage 2.

- `extract_features` / `augmented_features` (relgan_jax/evaluation/features.py,
  importable from here): f(e) of a split's centre crops (or five-crop
  means), and of config.stage2.mlp_augment_views augmented views of every
  training record (the baseline's augmentation: crop place, rotation, flip),
  so the MLP trains on the same kind of crops as the baseline does (issue
  14); test features stay centre crops.
- `train_mlp` / `fit_mlp`: the MLP of DESIGN §2 on f(e)
  (config.stage2.mlp_*, Adam, dropout), features standardised with the
  training set's mean/std.
- the paper's "CNN (baseline)" (relgan_jax/evaluation/baseline.py): the Ges trunk + one
  Dense to Ne, trained end to end with cross-entropy on augmented single
  images (config.stage2.baseline_*).
- `run_fold`: the MLP and the baseline for one fold, returning the fold's
  result dict; what the disentanglement measures need (features, the trained
  baseline) is handed back through its `handoff` dict
  (`relgan_jax.evaluation.disentanglement`, which also holds the identity-leakage probe).
"""

import dataclasses
import functools
from typing import Any, Optional

from absl import logging
import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from relgan_jax.evaluation import baseline
from relgan_jax.evaluation import features
from relgan_jax.evaluation import run_files
from relgan_jax.model import models


# f(e) extraction lives in relgan_jax/evaluation/features.py; its names stay importable
# from here, where the notebook and older code look for them.
Features = features.Features
ges_encoder_fn = features.ges_encoder_fn
extract_features = features.extract_features
augmented_features = features.augmented_features


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


@functools.partial(jax.jit, static_argnums=0)
def _init(module, key, z):
  return module.init(key, z, train=False)


def standardizer(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """(mean, std) per feature over the rows of f (float32, std >= 1e-6): how
  the MLP's inputs and the retrieval measure are standardised."""
  f = np.asarray(f)
  mean = f.mean(axis=0)
  std = f.std(axis=0)
  return mean.astype(np.float32), np.maximum(std, 1e-6).astype(np.float32)


def _optimizer(learning_rate: float, weight_decay: float):
  return (optax.adamw(learning_rate, weight_decay=weight_decay) if weight_decay
          else optax.adam(learning_rate))


@functools.partial(jax.jit,
                   static_argnames=('module', 'learning_rate', 'weight_decay'))
def _run_epoch(params, opt_state, z, y, batches, drop_key, epoch, *, module,
               learning_rate, weight_decay):
  """One epoch of Adam + CE: a scan over the minibatches `batches` [N, B]
  (rows of z / y). The features are arguments, not constants of the program:
  every call with the same shapes (folds, the reference rows) reuses one
  compiled program, and a large feature set does not inflate the program."""
  tx = _optimizer(learning_rate, weight_decay)

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
  mean, std = standardizer(f)
  z = jnp.asarray((f - mean) / std)
  y = jnp.asarray(labels)
  batch_size = min(batch_size, len(f))
  key = jax.random.key(seed)
  init_key, drop_key = jax.random.split(key)
  params = _init(module, init_key, z[:1])['params']
  learning_rate, weight_decay = float(learning_rate), float(weight_decay)
  opt_state = _optimizer(learning_rate, weight_decay).init(params)

  rng = np.random.default_rng(seed)
  loss = float('nan')
  for epoch in range(epochs):
    batches = jnp.asarray(features.epoch_batches(rng, len(f), batch_size))
    params, opt_state, loss = _run_epoch(
        params, opt_state, z, y, batches, drop_key, epoch, module=module,
        learning_rate=learning_rate, weight_decay=weight_decay)
  logging.info('train_classifier %s: %d epochs, final loss %.4f',
               type(module).__name__, epochs, float(loss))
  return Classifier(module, params, mean, std)


def build_mlp(config: ml_collections.ConfigDict, num_classes: int) -> models.MLP:
  """The stage-2 MLP of DESIGN §2 from config.stage2."""
  return models.MLP(num_expressions=num_classes,
                    hidden=tuple(config.stage2.mlp_hidden),
                    dropout_rate=config.stage2.dropout)


def fit_mlp(f: np.ndarray, labels: np.ndarray, num_classes: int,
            config: ml_collections.ConfigDict, *, seed: int) -> Classifier:
  """The stage-2 MLP (config.stage2.mlp_*) trained on any feature array
  (`train_mlp` is REL-GAN's; the untrained-Ges reference of
  relgan_jax/evaluation/disentanglement.py is trained here the same way)."""
  return train_classifier(build_mlp(config, num_classes), f, labels,
                          epochs=config.stage2.mlp_epochs,
                          batch_size=config.stage2.mlp_batch_size,
                          learning_rate=config.stage2.mlp_lr, seed=seed)


def mlp_training_set(train: Features, augmented: Optional[Features] = None
                     ) -> tuple[np.ndarray, np.ndarray]:
  """(features, labels) the MLP trains on: the centre crops, then the
  augmented views of the same records (if any)."""
  if augmented is None or not len(augmented):
    return train.f, train.expression
  if not set(augmented.index.tolist()) <= set(train.index.tolist()):
    raise ValueError('mlp_training_set: the augmented views come from '
                     'records outside the training split.')
  return (np.concatenate([train.f, augmented.f]),
          np.concatenate([train.expression, augmented.expression]))


def train_mlp(train: Features, num_classes: int,
              config: ml_collections.ConfigDict, *, seed: int,
              augmented: Optional[Features] = None) -> Classifier:
  """Trains the stage-2 MLP on f(e) of the fold's training records (their
  centre crops `train`, plus their `augmented` views when given)."""
  return fit_mlp(*mlp_training_set(train, augmented), num_classes, config,
                 seed=seed)


def accuracy_and_confusion(labels: np.ndarray, predictions: np.ndarray,
                           num_classes: int) -> tuple[float, np.ndarray]:
  """Accuracy in % and the confusion matrix (rows true, columns predicted)."""
  labels = np.asarray(labels, np.int64)
  predictions = np.asarray(predictions, np.int64)
  confusion = np.zeros((num_classes, num_classes), np.int64)
  np.add.at(confusion, (labels, predictions), 1)
  acc = 100.0 * float(np.mean(labels == predictions)) if len(labels) else 0.0
  return acc, confusion


# --- One fold ----------------------------------------------------------------


def run_fold(config: ml_collections.ConfigDict, dataset, train_indices,
             test_indices, ges_module: nn.Module, ges_params, *,
             num_classes: int, seed: int,
             classifier_dir: Optional[str] = None,
             handoff: Optional[dict[str, Any]] = None) -> dict[str, Any]:
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
      (`run_files.save_classifier`); None = not saved.
    handoff: if given, filled for `disentanglement.run_fold` with 'train',
      'test' (f(e) Features, centre crops), 'baseline' ((module, variables)
      of the trained baseline, or None), 'baseline_train', 'baseline_test'
      (its penultimate Features, or None).

  Returns:
    {'relgan': {'accuracy', 'train_accuracy' (centre crops),
    'mlp_train_features' (centre crops + augmented views),
    'confusion_matrix'}, 'baseline': {'accuracy', 'confusion_matrix'} or
    None}; accuracies in %.
  """
  eval_bs = max(config.stage2.mlp_batch_size, 8)
  encode = ges_encoder_fn(ges_module, ges_params)
  train = extract_features(encode, dataset, train_indices, config,
                           batch_size=eval_bs)
  test = extract_features(encode, dataset, test_indices, config,
                          batch_size=eval_bs)
  augmented = augmented_features(
      encode, dataset, train_indices, config, seed=seed, batch_size=eval_bs,
      views=config.stage2.mlp_augment_views)
  mlp = train_mlp(train, num_classes, config, seed=seed, augmented=augmented)
  if classifier_dir:
    run_files.save_classifier(classifier_dir, mlp, config=config,
                              manifest=dataset.manifest)
  acc, cm = accuracy_and_confusion(
      test.expression, mlp.logits(test.f).argmax(-1), num_classes)
  train_acc, _ = accuracy_and_confusion(
      train.expression, mlp.logits(train.f).argmax(-1), num_classes)
  result = {'relgan': {'accuracy': acc, 'train_accuracy': train_acc,
                       'mlp_train_features': len(train) + len(augmented),
                       'confusion_matrix': cm.tolist()},
            'baseline': None}
  kept = dict(train=train, test=test, baseline=None, baseline_train=None,
              baseline_test=None)
  if config.stage2.run_baseline:
    module, variables = baseline.train_baseline(config, dataset,
                                                train_indices, num_classes,
                                                seed=seed)
    encode_b = baseline.encoder_fn(module, variables)
    features_fn = lambda x: encode_b(x)[1]  # noqa: E731
    test_logits = extract_features(lambda x: encode_b(x)[0], dataset,
                                   test_indices, config, batch_size=eval_bs)
    b_acc, b_cm = accuracy_and_confusion(
        test_logits.expression, test_logits.f.argmax(-1), num_classes)
    result['baseline'] = {'accuracy': b_acc, 'confusion_matrix': b_cm.tolist()}
    kept['baseline'] = (module, variables)
    kept['baseline_train'] = extract_features(
        features_fn, dataset, train_indices, config, batch_size=eval_bs)
    kept['baseline_test'] = extract_features(
        features_fn, dataset, test_indices, config, batch_size=eval_bs)
  if handoff is not None:
    handoff.update(kept)
  return result
