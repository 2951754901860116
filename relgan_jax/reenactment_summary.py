"""The stage-1 reenactment grid for TensorBoard (like the paper's Fig. 3).

Paper names: x_s (source faces: rows, their expression is shown), x_t (target
faces: columns, their identity is kept), x_bar[r, c] = Gde(Ges(x_s[r]),
Get(x_t[c])). The grid uses a fixed set of training records for the whole run,
centre-cropped as in evaluation, so that images at different steps compare.
"""

import functools
from typing import Any, Callable

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import numpy as np

from relgan_jax import input_pipeline
from relgan_jax import models


def reenact_all_pairs(g_model: models.Generator, g_variables, x_s: jnp.ndarray,
                      x_t: jnp.ndarray) -> jnp.ndarray:
  """x_bar[r, c] = Gde(Ges(x_s[r]), Get(x_t[c])) in [-1, 1], [R, C, S, S, 3]."""
  f_e = g_model.apply(g_variables, x_s, method='encode_expression')
  f_i = g_model.apply(g_variables, x_t, method='encode_identity')
  rows, cols = f_e.shape[0], f_i.shape[0]
  x_bar = g_model.apply(g_variables, jnp.repeat(f_e, cols, axis=0),
                        jnp.tile(f_i, (rows, 1)), method='decode')
  return x_bar.reshape((rows, cols) + x_bar.shape[1:])


def reenact_program(g_model: models.Generator, mesh: Mesh) -> Callable:
  """reenact_all_pairs jitted with a replicated output on `mesh`."""
  return jax.jit(functools.partial(reenact_all_pairs, g_model),
                 out_shardings=NamedSharding(mesh, P()))


def grid_image(x_s: np.ndarray, x_t: np.ndarray,
               x_bar: np.ndarray) -> np.ndarray:
  """uint8 canvas: targets along the top, sources down the left, x_bar[r, c]
  in the cells. Inputs uint8: x_s [R, S, S, 3], x_t [C, S, S, 3],
  x_bar [R, C, S, S, 3]."""
  rows, cols, s = x_bar.shape[0], x_bar.shape[1], x_bar.shape[2]
  canvas = np.full(((rows + 1) * s, (cols + 1) * s, 3), 255, np.uint8)
  for c in range(cols):
    canvas[:s, (c + 1) * s:(c + 2) * s] = x_t[c]
  for r in range(rows):
    canvas[(r + 1) * s:(r + 2) * s, :s] = x_s[r]
    for c in range(cols):
      canvas[(r + 1) * s:(r + 2) * s, (c + 1) * s:(c + 2) * s] = x_bar[r, c]
  return canvas


def grid_records(dataset, indices: np.ndarray, k: int = 4):
  """The first records with distinct expressions (sources) and with distinct
  identities (targets) among `indices`, at most k of each."""
  indices = np.asarray(indices)
  expressions = np.asarray(dataset.expressions)[indices]
  identities = np.asarray(dataset.identities)[indices]
  first = lambda labels: np.sort(np.unique(labels, return_index=True)[1])
  return indices[first(expressions)][:k], indices[first(identities)][:k]


class ReenactmentSummary:
  """Renders the fixed reenactment grid of a run.

  Args:
    config: the run's config (image size, augment margin).
    dataset: a records.PreparedDataset.
    indices: the run's training records (the grid's faces come from them).
    reenact: `reenact_program(g_model, mesh)`.
    mesh: the run's mesh (the faces are replicated over it).
  """

  def __init__(self, config, dataset, indices, reenact: Callable, mesh: Mesh):
    src, tgt = grid_records(dataset, indices)

    def crops(idx):
      batch = next(iter(input_pipeline.eval_batches(
          dataset, idx, config, batch_size=len(idx))))
      return np.asarray(batch['image'])[np.asarray(batch['mask'], bool)]

    self.x_s, self.x_t = crops(src), crops(tgt)
    as_float = lambda x: x.astype(np.float32) / 127.5 - 1.0
    self._inputs = jax.device_put((as_float(self.x_s), as_float(self.x_t)),
                                  NamedSharding(mesh, P()))
    self._reenact = reenact

  def __call__(self, g_variables: Any) -> np.ndarray:
    """The uint8 grid image for G's current variables."""
    x_bar = jax.device_get(self._reenact(g_variables, *self._inputs))
    x_bar = np.clip(np.round((x_bar + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return grid_image(self.x_s, self.x_t, x_bar)
