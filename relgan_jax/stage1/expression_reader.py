"""The expression reader R: a frozen expression network for G's perceptual
term (not in the paper; config.loss.lambda_reader, README "Choices").

R is the CNN baseline's network (`models.build_classifier`: the Ges trunk +
Dense to Ne, DESIGN §2), trained before stage 1 to classify the expressions
of stage 1's own real faces (x_s and x_tg of the stage-1 batches, both
labelled y_e_s), then frozen in the stage-1 state (`GANState.reader`). G's term

  λ6 · losses.reader_feature_loss(R's block activations of x_bar, of x_tg)

asks x_bar to look like x_tg to a network that has learnt what tells
expressions apart: a perceptual loss (Johnson et al., 2016) in a feature
space trained on expressions, the way reenactment models use a frozen
emotion network (EMOCA's emotion-consistency loss) or face-recognition
network. Unlike De, R does not move while G learns and never sees x_bar,
and unlike a classifier's verdict, matching every block's activations of
the paired real face cannot be satisfied by texture that one head reads as
an expression.

R keeps the baseline's GroupNorm. At small widths its first blocks then
normalise each channel with the image's own statistics, so a few saturated
pixels can buy part of the term (StyleGAN2's "droplets"). A reader without
norm resists that 10x better, but it read the faint mouths less and G drew
3 points less of the expression (EXPERIMENTS.md, session 44).

R sees only stage 1's training records (never a fold's test subjects), and
no other data: nothing is downloaded.
"""

import functools
import math
from typing import Any, Iterator, List, Optional, Tuple

from absl import logging
import jax
from jax import lax
import jax.numpy as jnp
import ml_collections
import optax

from relgan_jax.data import input_pipeline
from relgan_jax.model import models


def build_model(config: ml_collections.ConfigDict,
                num_expressions: int) -> Optional[models.CNNBaseline]:
  """R's network when stage 1 runs the reader's term (loss.lambda_reader >
  0), else None."""
  if config.loss.lambda_reader <= 0:
    return None
  return models.build_classifier(config, num_expressions)


def init(model: models.CNNBaseline, rng: jnp.ndarray) -> Any:
  """Fresh variables of R (call under jit)."""
  x = jnp.zeros((1, model.image_size, model.image_size, 3), jnp.float32)
  return model.init(rng, x, train=False)


def read(model: models.CNNBaseline, variables,
         x: jnp.ndarray) -> Tuple[jnp.ndarray, List[jnp.ndarray]]:
  """R's logits of x and its five block activations (after each LeakyReLU,
  before its pooling), in order, from one pass."""
  logits, sown = model.apply(variables, x, train=False,
                             mutable=['intermediates'])
  blocks = sown['intermediates']['trunk']
  return logits, [blocks[f'block{i}'][0] for i in range(len(blocks))]


def block_features(model: models.CNNBaseline, variables,
                   x: jnp.ndarray) -> List[jnp.ndarray]:
  """R's five block activations of x (`read`)."""
  return read(model, variables, x)[1]


def log_likelihood_cotangent(logits: jnp.ndarray,
                             labels: jnp.ndarray) -> jnp.ndarray:
  """∂ log p(label | x) / ∂logits = onehot(label) − softmax(logits), each
  row its own face's (float32, [B, Ne])."""
  logits = logits.astype(jnp.float32)
  return (jax.nn.one_hot(labels, logits.shape[-1], dtype=jnp.float32)
          - jax.nn.softmax(logits))


def saliency_of(input_grad: jnp.ndarray) -> jnp.ndarray:
  """Where R finds each face's expression, [B, S, S, 1], from
  ∂ log p(label | x) / ∂x: its absolute value averaged over channels, a
  constant (the pixel term's weight with config.loss.pixel_change_saliency:
  losses.change_map). The G update pulls log_likelihood_cotangent back
  through its own pass of R (gan_steps._reader_pass)."""
  return lax.stop_gradient(jnp.mean(jnp.abs(input_grad.astype(jnp.float32)),
                                    axis=-1, keepdims=True))


def num_steps(config: ml_collections.ConfigDict, num_records: int) -> int:
  """config.reader.epochs over the records, 2 faces (x_s, x_tg) per pair."""
  faces_per_step = 2 * int(config.train.batch_size)
  return max(1, math.ceil(config.reader.epochs * num_records
                          / faces_per_step))


def train(config: ml_collections.ConfigDict, model: models.CNNBaseline,
          variables, batches: Iterator, steps: int, *,
          await_each_step: bool = False):
  """Adam (config.reader.lr) on the cross-entropy of R over x_s and x_tg of
  `steps` stage-1 batches (global arrays, sharded like the stage-1 steps'
  batches: `gan_steps.shard_batch`); returns R's trained variables (with
  replicated `variables`, replicated). `await_each_step`: wait for each step
  (CPU with several devices, as in the stage-1 loop).

  R has no batch-dependent layers at the default norm; with G's BatchNorm
  (model.norm = 'batch') it trains in inference mode on its initial
  statistics, so that the frozen R computes what it learnt.
  """
  tx = optax.adam(float(config.reader.lr))
  # Adam's state placed like R's params (replicated over the mesh): its step
  # count is made, not derived, and would otherwise sit on one device, so
  # the first step would compile a second program for the later steps.
  opt_state = jax.jit(tx.init, out_shardings=jax.tree.leaves(
      variables['params'])[0].sharding)(variables['params'])

  @functools.partial(jax.jit, donate_argnums=(0, 1))
  def step(params, opt_state, batch):
    x = input_pipeline.normalize(jnp.concatenate([batch['x_s'],
                                                  batch['x_tg']]))
    y = jnp.concatenate([batch['y_e_s'], batch['y_e_s']])

    def loss_fn(p):
      logits = model.apply({**variables, 'params': p}, x, train=False)
      loss = optax.softmax_cross_entropy_with_integer_labels(logits, y)
      return loss.mean(), jnp.mean(logits.argmax(-1) == y)

    (loss, acc), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state, loss, acc

  params = variables['params']
  log_every = max(1, steps // 5)
  for i in range(steps):
    params, opt_state, loss, acc = step(params, opt_state, next(batches))
    if await_each_step:
      jax.block_until_ready(params)
    if (i + 1) % log_every == 0 or i + 1 == steps:
      logging.info('expression reader step %d/%d: loss %.4f, batch accuracy '
                   '%.3f', i + 1, steps, float(loss), float(acc))
  return {**variables, 'params': params}
