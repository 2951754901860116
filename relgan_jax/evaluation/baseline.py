"""The paper's "CNN (baseline)" (DESIGN §2, §5): the Ges trunk + one Dense to
Ne, trained end to end with cross-entropy on augmented single images
(config.stage2.baseline_*), the yardstick REL-GAN's MLP on f(e) is compared
with on every fold (`stage2.run_fold` trains it).

- `build_baseline`: the network from config.model (`models.CNNBaseline`).
- `augmented_batches`: its training stream: one augmented view per image
  (crop place, rotation, flip; relgan_jax/data/augment.py), reshuffled every epoch.
- `train_baseline`: Adam on that stream; returns (module, variables).
- `encoder_fn`: images -> (logits, penultimate features), for its accuracy
  and for the disentanglement measures' reference rows.
"""

import functools
import math
from typing import Callable, Iterator

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax

from relgan_jax.data import input_pipeline
from relgan_jax.evaluation import features
from relgan_jax.model import models


def build_baseline(config: ml_collections.ConfigDict,
                   num_classes: int) -> models.CNNBaseline:
  """The paper's "CNN (baseline)": the Ges trunk + one Dense to Ne."""
  return models.build_classifier(config, num_classes)


def augmented_batches(dataset, record_indices, config, *, batch_size: int,
                      seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
  """Endless (uint8 images [B, S, S, 3], expressions [B]) batches, one
  augmented image per sample (the §4 augmentation of `augment.py`: crop place,
  rotation, flip), reshuffled every epoch, a pure function of `seed`.

  The training faces are decoded once and kept in memory (resized to the
  margin side), and so is each crop once drawn when they fit
  (`features.augmenter`): later epochs copy and flip.
  """
  record_indices = np.asarray(record_indices)
  augment_one = features.augmenter(dataset, record_indices, config)
  labels = np.asarray(dataset.expressions)[record_indices].astype(np.int32)
  epoch = 0
  while True:
    rng = np.random.default_rng([seed, epoch])
    for batch in features.epoch_batches(rng, len(record_indices), batch_size):
      images = np.stack([augment_one(j, rng) for j in batch])
      yield images, labels[batch]
    epoch += 1


@functools.partial(jax.jit, static_argnames=('module', 'learning_rate'),
                   donate_argnums=(0, 1, 2))
def _train_step(params, extra, opt_state, images, labels, *,
                module: models.CNNBaseline, learning_rate: float):
  """One Adam + cross-entropy step. Module-level with the module and the
  learning rate static, so every fold (and every run in one process) with an
  equal network and shapes reuses one compiled program."""
  tx = optax.adam(learning_rate)

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
  variables = models.init_on_images(module, jax.random.key(seed),
                                    int(config.model.image_size))
  params = variables['params']
  extra = {k: v for k, v in variables.items() if k != 'params'}  # BatchNorm.
  learning_rate = float(s2.baseline_lr)
  opt_state = optax.adam(learning_rate).init(params)

  batches = augmented_batches(dataset, train_indices, config,
                               batch_size=batch_size, seed=seed)
  log_every = max(1, num_steps // 5)
  for step in range(num_steps):
    images, labels = next(batches)
    params, extra, opt_state, loss, acc = _train_step(
        params, extra, opt_state, jnp.asarray(images),
        jnp.asarray(labels, jnp.int32), module=module,
        learning_rate=learning_rate)
    if (step + 1) % log_every == 0 or step + 1 == num_steps:
      logging.info('baseline step %d/%d: loss %.4f, batch accuracy %.3f',
                   step + 1, num_steps, float(loss), float(acc))
  return module, {'params': params, **extra}


@functools.partial(jax.jit, static_argnums=0)
def _encode(module: models.CNNBaseline, variables, images):
  return module.apply(variables, input_pipeline.normalize(images),
                      train=False, return_features=True)


def encoder_fn(module: models.CNNBaseline, variables) -> Callable:
  """A jitted images -> (logits, penultimate features) function (one
  compiled program per network and shape, shared by the folds)."""
  return functools.partial(_encode, module, variables)
