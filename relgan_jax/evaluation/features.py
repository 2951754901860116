"""Features of a split's records for stage 2 and the disentanglement measures.

Paper names: `Ges` is the expression encoder trained in stage 1; `f(e) =
Ges(x)` (`f_e`) is its expression code.

- `Features`: per-record feature rows with their labels and record indices.
- `ges_encoder_fn`: a jitted uint8 images -> f(e) function of a (frozen) Ges.
- `extract_features`: any encoder over the records' centre crops (or the
  mean over their five crops, config.augment.five_crop_eval): evaluation.
- `augmented_features`: any encoder over `views` augmented crops of every
  record, with the training augmentation of DESIGN §4 (`augmenter`: crop
  place, rotation, flip), so the stage-2 MLP can train on the same kind of
  crops as the CNN baseline (issue 14).
"""

import dataclasses
import functools
import math
from typing import Any, Callable, Optional

import flax.linen as nn
import jax
import ml_collections
import numpy as np

from relgan_jax.data import augment
from relgan_jax.data import input_pipeline

_VIEW_STREAM = 1  # augmented_features' streams differ from the baseline's.


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


@functools.partial(jax.jit, static_argnums=0)
def encode_images(module: nn.Module, variables, images):
  """module(normalize(images), train=False) for uint8 images [B, S, S, 3].

  The module is a static argument (flax modules hash by their fields), so
  every fold, reference row and later call with an equal module and shapes
  runs one compiled program.
  """
  return module.apply(variables, input_pipeline.normalize(images), train=False)


def ges_encoder_fn(ges_module: nn.Module, ges_params) -> Callable:
  """A jitted images(uint8 [B, S, S, 3]) -> f(e) [B, D] function."""
  return functools.partial(encode_images, ges_module,
                           _as_variables(ges_params))


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


# --- Augmented training crops -------------------------------------------------


def augmenter(dataset, record_indices, config) -> Callable:
  """(j, rng) -> an augmented uint8 crop of record_indices[j]
  (config.augment): the faces are decoded and resized to the margin side
  once, and each crop is kept once drawn when they fit
  (config.data.keep_crops_mib; augment.KeptCrops)."""
  size = int(config.model.image_size)
  side = augment.margin_side(size, config.augment.margin_ratio)
  faces = np.stack([augment.resize(dataset[int(i)]['image'], side)
                    for i in record_indices])
  rotations = tuple(float(r) for r in config.augment.rotations)
  five_crops, flip = bool(config.augment.five_crops), bool(config.augment.flip)
  crops = augment.KeptCrops(
      size, side, num_faces=len(faces), five_crops=five_crops,
      rotations=rotations, max_bytes=int(config.data.keep_crops_mib) * 2**20)

  def augment_one(j, rng):
    return crops(j, lambda: faces[j], augment.draw_geometry(
        rng, five_crops=five_crops, rotations=rotations, flip=flip))

  return augment_one


def augmented_features(encode_fn: Callable, dataset, record_indices,
                       config: ml_collections.ConfigDict, *, views: int,
                       seed: int, batch_size: int = 64) -> Features:
  """Features of `views` augmented crops of every record (what
  `train_baseline` trains on: crop place, rotation, flip).

  View v draws its geometries from np.random.default_rng([seed, 1, v]): two
  encoders given the same seed see the same crops.

  Returns:
    Features of views * len(record_indices) crops, view-major (view 0 of
    every record, then view 1, ...); labels and indices repeat per view.
  """
  if not isinstance(views, (int, np.integer)) or views < 0:
    raise ValueError('config.stage2.mlp_augment_views must be an integer '
                     f'>= 0, got {views!r}.')
  record_indices = np.asarray(record_indices, np.int64)
  feats = []
  if views and len(record_indices):
    augment_one = augmenter(dataset, record_indices, config)
    for v in range(views):
      rng = np.random.default_rng([seed, _VIEW_STREAM, v])
      crops = np.stack([augment_one(j, rng)
                        for j in range(len(record_indices))])
      for start in range(0, len(crops), batch_size):
        batch = crops[start:start + batch_size]
        padded = np.concatenate(  # A fixed batch shape: one compile.
            [batch, np.repeat(batch[-1:], batch_size - len(batch), axis=0)])
        feats.append(np.asarray(encode_fn(padded))[:len(batch)])
  tile = lambda a: np.tile(np.asarray(a)[record_indices], views)  # noqa: E731
  return Features(
      np.concatenate(feats).astype(np.float32) if feats
      else np.zeros((0, 0), np.float32),
      tile(dataset.expressions).astype(np.int32),
      tile(dataset.identities).astype(np.int32),
      np.tile(record_indices, views).astype(np.int32))


def epoch_batches(rng: np.random.Generator, n: int,
                  batch_size: int) -> np.ndarray:
  """[ceil(n / B), B] indices: a permutation, the last batch filled up with
  the start of a second permutation so every step has a full batch."""
  steps = max(1, math.ceil(n / batch_size))
  order = rng.permutation(n)
  while len(order) < steps * batch_size:
    order = np.concatenate([order, rng.permutation(n)])
  return order[:steps * batch_size].reshape(steps, batch_size)
