"""Reenactment, in one place: x_bar for pairs and grids, the grid's faces, its
drawing, and the stage-1 summary grid for TensorBoard (the paper's Fig. 3).

Paper names: x_s (source faces: rows, their expression is shown), x_t (target
faces: columns, their identity is kept), x_bar[r, c] = Gde(Ges(x_s[r]),
Get(x_t[c])). Used by stage 1's summaries (train.py), the protocol's
reenactment_grid.png, reenactment_changes.png and measures (protocol.py,
disentanglement.py) and the `reenact` app (inference.Reenactor).
"""

import functools
import textwrap
from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import ml_collections
import numpy as np

from relgan_jax.data import input_pipeline
from relgan_jax.data import pairs
from relgan_jax.model import models


def to_uint8(x_bar):
  """[-1, 1] images -> uint8, rounded as a saved image would be."""
  return jnp.clip(jnp.round((x_bar + 1.0) * 127.5), 0, 255).astype(jnp.uint8)


def reenact_all_pairs(g_model: models.Generator, g_variables, x_s: jnp.ndarray,
                      x_t: jnp.ndarray) -> jnp.ndarray:
  """x_bar[r, c] = Gde(Ges(x_s[r]), Get(x_t[c])) in [-1, 1], [R, C, S, S, 3]
  (x_s, x_t in [-1, 1]; G in inference mode)."""
  f_e = g_model.apply(g_variables, x_s, method='encode_expression')
  f_i = g_model.apply(g_variables, x_t, method='encode_identity')
  rows, cols = f_e.shape[0], f_i.shape[0]
  x_bar = g_model.apply(g_variables, jnp.repeat(f_e, cols, axis=0),
                        jnp.tile(f_i, (rows, 1)), method='decode')
  return x_bar.reshape((rows, cols) + x_bar.shape[1:])


@functools.partial(jax.jit, static_argnums=0)
def all_pairs_uint8(g_model: models.Generator, g_variables, x_s, x_t):
  """reenact_all_pairs on uint8 crops, as uint8 [R, C, S, S, 3]."""
  normalize = input_pipeline.normalize
  return to_uint8(reenact_all_pairs(g_model, g_variables, normalize(x_s),
                                    normalize(x_t)))


@functools.partial(jax.jit, static_argnums=0)
def pairs_uint8(g_model: models.Generator, g_variables, x_s, x_t):
  """x_bar[k] = Gde(Ges(x_s[k]), Get(x_t[k])) on uint8 crops, as uint8."""
  normalize = input_pipeline.normalize
  return to_uint8(g_model.apply(g_variables, normalize(x_s), normalize(x_t),
                                train=False))


def reenact_program(g_model: models.Generator, mesh: Mesh) -> Callable:
  """reenact_all_pairs jitted with a replicated output on `mesh`."""
  return jax.jit(functools.partial(reenact_all_pairs, g_model),
                 out_shardings=NamedSharding(mesh, P()))


# --- Which faces a grid shows ------------------------------------------------


def pick_grid_records(expressions: np.ndarray, identities: np.ndarray,
                      class_names: Sequence[str], *,
                      intensities: Optional[np.ndarray] = None,
                      num_targets: int = 5,
                      seed: int = 0) -> tuple[list[int], list[int]]:
  """Chooses the grid's faces among a split's records.

  Sources: one per expression class, at its highest intensity when
  intensities are known, of a different identity each where possible.
  Targets: `num_targets` distinct identities, each shown by its neutral face
  when the classes have one.

  Returns:
    (sources, targets): positions into the given arrays.
  """
  rng = np.random.default_rng(seed)
  if intensities is None:
    intensities = np.zeros(len(expressions), np.int64)
  sources, used = [], set()
  for c in range(len(class_names)):
    pos = np.flatnonzero(expressions == c)
    if not len(pos):
      continue
    pos = pos[intensities[pos] == intensities[pos].max()]
    fresh = [p for p in rng.permutation(pos) if identities[p] not in used]
    p = int(fresh[0] if fresh else rng.choice(pos))
    sources.append(p)
    used.add(identities[p])
  neutral = pairs.neutral_class(class_names, missing=-1)
  targets = []
  for identity in rng.permutation(np.unique(identities)):
    pos = np.flatnonzero(identities == identity)
    if identity < 0:  # Unknown identities: each image is its own person.
      targets.extend(int(p) for p in pos[:num_targets - len(targets)])
    else:
      calm = pos[expressions[pos] == neutral]
      targets.append(int(calm[0] if len(calm) else pos[0]))
    if len(targets) >= num_targets:
      break
  return sources, targets[:num_targets]


def grid_records(config: ml_collections.ConfigDict, dataset,
                 record_indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
  """pick_grid_records among `record_indices` of `dataset`: (sources,
  targets) as record indices."""
  record_indices = np.asarray(record_indices)
  src, tgt = pick_grid_records(
      np.asarray(dataset.expressions)[record_indices],
      np.asarray(dataset.identities)[record_indices],
      dataset.manifest['expression_classes'],
      intensities=np.asarray(dataset.intensities)[record_indices],
      seed=config.seed)
  return record_indices[src], record_indices[tgt]


# --- Drawing -------------------------------------------------------------------


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


def row_labels(class_names: Sequence[str], row_classes: Sequence[int],
               transfer: Optional[Sequence[Optional[float]]] = None,
               strength: Optional[Sequence[Optional[float]]] = None
               ) -> list[str]:
  """The grid's row labels: each source's expression and, where measured
  (by class, %), the fold's expression transfer ('read': how often the
  baseline reads x_bar drawn from that expression as it) and expression
  strength ('drawn': how much of the real change x_bar draws)."""
  labels = []
  for c in row_classes:
    lines = [class_names[c]]
    for word, values in (('read', transfer), ('drawn', strength)):
      if values is not None and values[c] is not None:
        lines.append(f'{word} {values[c]:.0f}%')
    labels.append('\n'.join(lines))
  return labels


# The change panel's gain: x_bar's departure from its column's mean, x3.
CHANGE_GAIN = 3.0


def change_cells(x_bar: np.ndarray, gain: float = CHANGE_GAIN) -> np.ndarray:
  """What each grid cell draws of its row's expression: uint8
  127.5 + gain * (x_bar[r, c] - mean over the rows of x_bar[:, c]), rounded
  and clipped to [0, 255] (mid-grey = no change).

  The column's mean is that target drawn under all the grid's expressions,
  so the person, the blur and the texture shared by a column cancel and what
  is left is what changes with the source's expression: where and how
  strongly Gde draws it, however faint in the faces (the picture of
  expression strength, evaluation/strength.py). x_bar: uint8 [R, C, S, S, 3].
  """
  x_bar = np.asarray(x_bar, np.float64)
  if x_bar.ndim != 5 or x_bar.shape[0] < 2:
    raise ValueError('change_cells: x_bar must be [R >= 2, C, S, S, 3], got '
                     f'shape {x_bar.shape}.')
  change = x_bar - x_bar.mean(axis=0, keepdims=True)
  return np.clip(np.round(127.5 + gain * change), 0, 255).astype(np.uint8)


def change_title(grid_title: str) -> str:
  """The change panel's title: the grid's first title line (what the faces
  are), if any, then what the cells now show."""
  cells = ('cells: what x̄ draws of the row\'s expression: x̄ minus its '
           f'column\'s mean over the rows, ×{CHANGE_GAIN:g} (mid-grey: no '
           'change)')
  return '\n'.join(filter(None, (grid_title.split('\n')[0], cells)))


def plot_change_panel(x_s: np.ndarray, x_t: np.ndarray, x_bar: np.ndarray,
                      path: str, *, title: str = '', **labels) -> None:
  """Saves the change panel of the grid `x_bar` (uint8 [R >= 2, C, S, S, 3])
  drawn under `title` with `labels`: the same layout, each cell
  `change_cells`, under `change_title(title)`."""
  plot_reenactment_grid(x_s, x_t, change_cells(x_bar), path,
                        title=change_title(title), **labels)


def draw_reenactment_grid(config: ml_collections.ConfigDict,
                          g_variables: dict[str, Any], dataset,
                          record_indices: np.ndarray, path: str, *,
                          title: str = '',
                          measures: Optional[dict[str, Any]] = None,
                          changes_path: Optional[str] = None) -> None:
  """Reenacts every chosen source on every chosen target and saves the grid
  (reenactment_grid.png, labelled). `measures`: the fold's reenactment
  measures (disentanglement.reenactment_measures plus strength), whose
  values by class label the rows (`row_labels`). `changes_path`: where to
  save the same grid's change panel as well (`change_cells`;
  reenactment_changes.png), when there are two sources or more."""
  src, tgt = grid_records(config, dataset, record_indices)
  x_s = input_pipeline.centre_crops(dataset, src, config, batch_size=len(src))
  x_t = input_pipeline.centre_crops(dataset, tgt, config, batch_size=len(tgt))
  x_bar = np.asarray(all_pairs_uint8(models.build_generator(config),
                                     g_variables, x_s, x_t))
  by_class = [(measures or {}).get(f'expression_{key}_by_class')
              for key in ('transfer', 'strength')]
  shown = [what for what, values in zip(
      ('read: x̄ read as it by the CNN baseline',
       'drawn: the share of the real change x̄ draws'), by_class)
           if values is not None]
  if shown:
    title += ('\nunder each expression, over all the test pairs: '
              + '; '.join(shown) + ' (report.md)')
  labels = dict(
      source_labels=row_labels(dataset.manifest['expression_classes'],
                               [int(dataset.expressions[i]) for i in src],
                               *by_class),
      target_labels=[str(dataset.subjects[i])[-12:] for i in tgt])
  plot_reenactment_grid(x_s, x_t, x_bar, path, title=title, **labels)
  if changes_path and len(src) >= 2:
    plot_change_panel(x_s, x_t, x_bar, changes_path, title=title, **labels)


class ReenactmentSummary:
  """Renders the fixed reenactment grid of a stage-1 run for TensorBoard.

  The grid uses a fixed set of training records for the whole run (the
  faces `grid_records` picks), centre-cropped as in evaluation, so that
  images at different steps compare.

  Args:
    config: the run's config (image size, augment margin, seed).
    dataset: a records.PreparedDataset.
    indices: the run's training records (the grid's faces come from them).
    reenact: `reenact_program(g_model, mesh)`.
    mesh: the run's mesh (the faces are replicated over it).
  """

  def __init__(self, config, dataset, indices, reenact: Callable, mesh: Mesh):
    src, tgt = grid_records(config, dataset, indices)
    self.x_s = input_pipeline.centre_crops(dataset, src, config, batch_size=len(src))
    self.x_t = input_pipeline.centre_crops(dataset, tgt, config, batch_size=len(tgt))
    self._inputs = jax.device_put(
        (input_pipeline.normalize(self.x_s), input_pipeline.normalize(self.x_t)),
        NamedSharding(mesh, P()))
    self._reenact = reenact

  def __call__(self, g_variables: Any) -> np.ndarray:
    """The uint8 grid image for G's current variables."""
    x_bar = jax.device_get(self._reenact(g_variables, *self._inputs))
    return grid_image(self.x_s, self.x_t, np.asarray(to_uint8(x_bar)))


# A grid's face is drawn with at least this many pixels a side (whole-number
# enlargement, each pixel a square block): a 64x64 face's mouth at its native
# size is a few pixels, too small to judge by eye.
GRID_CELL_PIXELS = 128


def _grid_gap(face_size: int) -> int:
  """The white gap between a grid's faces, in the faces' own pixels."""
  return max(1, face_size // 16)


def padded_grid_canvas(sources: np.ndarray, targets: np.ndarray,
                       generated: np.ndarray) -> tuple[np.ndarray, int]:
  """The labelled grid's pixels: targets along the top, sources down the
  left, generated[r, c] in the cells, white gaps between faces (a wider one
  before the cells), every pixel enlarged to a `scale` x `scale` block with
  scale = ceil(GRID_CELL_PIXELS / S). Returns (uint8 canvas, scale)."""
  rows, cols, s = generated.shape[0], generated.shape[1], generated.shape[2]
  pad = _grid_gap(s)
  step = s + pad
  canvas = np.full(((rows + 1) * step + pad, (cols + 1) * step + 2 * pad, 3),
                   255, np.uint8)
  for c in range(cols):
    x = (c + 1) * step + 2 * pad
    canvas[pad:pad + s, x:x + s] = targets[c]
  for r in range(rows):
    y = (r + 1) * step + pad
    canvas[y:y + s, pad:pad + s] = sources[r]
    for c in range(cols):
      x = (c + 1) * step + 2 * pad
      canvas[y:y + s, x:x + s] = generated[r, c]
  scale = max(1, -(-GRID_CELL_PIXELS // s))
  return np.repeat(np.repeat(canvas, scale, axis=0), scale, axis=1), scale


def plot_reenactment_grid(sources: np.ndarray, targets: np.ndarray,
                          generated: np.ndarray, path: str, *,
                          source_labels: Optional[Sequence[str]] = None,
                          target_labels: Optional[Sequence[str]] = None,
                          title: str = ''):
  """Saves a reenactment grid like the paper's Fig. 3.

  Args:
    sources: uint8 [R, S, S, 3], the source faces x_s (left margin).
    targets: uint8 [C, S, S, 3], the target faces x_t (top margin).
    generated: uint8 [R, C, S, S, 3]; cell (r, c) = Gde(Ges(x_s[r]),
      Get(x_t[c])): target c's identity with source r's expression.
    path: the PNG to write.
    source_labels: optional text per row (e.g. the source's expression).
    target_labels: optional text per column.
    title: optional figure title.
  """
  sources, targets, generated = map(np.asarray, (sources, targets, generated))
  rows, cols = generated.shape[:2]
  if sources.shape[0] != rows or targets.shape[0] != cols:
    raise ValueError(
        f'reenactment grid: {sources.shape[0]} sources and {targets.shape[0]} '
        f'targets do not match generated {generated.shape[:2]}.')
  canvas, scale = padded_grid_canvas(sources, targets, generated)
  s = generated.shape[2] * scale
  pad = _grid_gap(generated.shape[2]) * scale
  step = s + pad
  # The axes hold the canvas at one screen pixel per canvas pixel (dpi 100),
  # so no face is resampled; margins in inches: labels left, title on top
  # (centred on the faces, wrapped to their width: ~18 characters an inch
  # at 8 points).
  dpi, left, top, edge = 100, 0.9, 0.6, 0.1
  height, width = canvas.shape[0] / dpi, canvas.shape[1] / dpi
  title = title or ('rows: source x_s (expression), columns: target x_t '
                    '(identity); cell: Gde(Ges(x_s), Get(x_t))')
  title = '\n'.join(textwrap.fill(line, int(18 * width))
                    for line in title.split('\n'))
  top += 0.14 * max(0, title.count('\n') - 1)
  fig_w, fig_h = width + left + edge, height + top + edge
  # A Figure without pyplot: no global backend, no figure registry, and
  # matplotlib is imported only by a run that draws.
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  fig = Figure(figsize=(fig_w, fig_h), dpi=dpi)
  ax = fig.add_axes((left / fig_w, edge / fig_h, width / fig_w,
                     height / fig_h))
  ax.imshow(canvas, interpolation='nearest')
  ax.set_xticks([(c + 1) * step + 2 * pad + s / 2 for c in range(cols)],
                list(target_labels) if target_labels is not None else
                [f'x_t {c}' for c in range(cols)], fontsize=8)
  ax.xaxis.tick_top()
  ax.set_yticks([(r + 1) * step + pad + s / 2 for r in range(rows)],
                list(source_labels) if source_labels is not None else
                [f'x_s {r}' for r in range(rows)], fontsize=8)
  ax.tick_params(length=0)
  for spine in ax.spines.values():
    spine.set_visible(False)
  ax.set_title(title, fontsize=8, pad=16)
  fig.savefig(path, dpi=dpi)
