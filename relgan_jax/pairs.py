"""Reenactment triplets: the (identity, expression) -> record table and the pair rule.

REL-GAN (DESIGN.md §4) trains on triplets: a source face x_s (identity a,
expression e), a target face x_t of another identity b, and the ground truth
x_tg, a real image of b wearing expression e. `PairTable` is built once over the
training records and turns the pair rule into random-access lookups:

* b != a is drawn uniformly among the identities that have an image with
  expression e (b = a only when no other identity has one);
* x_tg is drawn uniformly among b's images with expression e (when b = a, an
  image other than x_s if there is one);
* x_t is drawn uniformly among b's other images (any expression), different
  from x_tg when b has more than one image.

Records whose identity is unknown (-1, e.g. SFEW) each count as their own
identity, keyed -(1 + record index); `identity_map` gives every identity key a
contiguous label for the discriminator's Di head.
"""

from typing import Mapping, Sequence

import numpy as np


def identity_keys(identities: np.ndarray, record_indices: np.ndarray) -> np.ndarray:
  """Identity key per record: its identity, or -(1 + index) when unknown."""
  identities = np.asarray(identities)[record_indices].astype(np.int64)
  return np.where(identities >= 0, identities,
                  -1 - np.asarray(record_indices, np.int64))


def identity_map(dataset, record_indices: Sequence[int]) -> dict[int, int]:
  """{identity key: contiguous label} over the given records.

  Known identities (sorted) come first as 0..K-1; records with unknown identity
  (-1) each get their own label after them, keyed -(1 + record index).

  Args:
    dataset: a `records.PreparedDataset` (uses `.identities` only).
    record_indices: the records (e.g. a fold's training set).

  Returns:
    The map; Ni = len(map).
  """
  record_indices = np.asarray(record_indices, np.int64)
  keys = identity_keys(dataset.identities, record_indices)
  known = sorted({int(k) for k in keys if k >= 0})
  unknown = [int(k) for k in keys if k < 0]
  return {k: i for i, k in enumerate(known + unknown)}


class PairTable:
  """The (identity, expression) -> record-index table and the pair rule."""

  def __init__(self, identities: np.ndarray, expressions: np.ndarray,
               record_indices: Sequence[int]):
    """Builds the table.

    Args:
      identities: per-record identity labels of the whole dataset (-1 unknown).
      expressions: per-record expression labels of the whole dataset.
      record_indices: the records that may be used (e.g. a fold's train set).
    """
    record_indices = np.asarray(record_indices, np.int64)
    if record_indices.size == 0:
      raise ValueError('PairTable needs at least one record.')
    keys = identity_keys(identities, record_indices)
    exprs = np.asarray(expressions)[record_indices].astype(np.int64)
    self._key = dict(zip(record_indices.tolist(), keys.tolist()))
    self._expr = dict(zip(record_indices.tolist(), exprs.tolist()))
    by_pair: dict[tuple[int, int], list[int]] = {}
    by_identity: dict[int, list[int]] = {}
    for r, k, e in zip(record_indices.tolist(), keys.tolist(), exprs.tolist()):
      by_pair.setdefault((k, e), []).append(r)
      by_identity.setdefault(k, []).append(r)
    self.by_pair = {p: np.asarray(v) for p, v in by_pair.items()}
    self.by_identity = {k: np.asarray(v) for k, v in by_identity.items()}
    with_expr: dict[int, list[int]] = {}
    for k, e in by_pair:
      with_expr.setdefault(e, []).append(k)
    self.identities_with = {e: np.asarray(sorted(v)) for e, v in with_expr.items()}

  def identity_key(self, record: int) -> int:
    return self._key[record]

  def expression(self, record: int) -> int:
    return self._expr[record]

  def sample(self, source: int, rng: np.random.Generator) -> tuple[int, int]:
    """Draws (x_t, x_tg) record indices for the source record, per the rule."""
    a, e = self._key[source], self._expr[source]
    candidates = self.identities_with[e]
    if len(candidates) > 1:
      b = candidates[rng.integers(len(candidates) - 1)]
      if b == a:  # Skip a: draw among the others uniformly.
        b = candidates[-1]
    else:
      b = a
    b = int(b)
    tg_choices = self.by_pair[(b, e)]
    if b == a and len(tg_choices) > 1:
      tg_choices = tg_choices[tg_choices != source]
    tg = int(tg_choices[rng.integers(len(tg_choices))])
    t_choices = self.by_identity[b]
    if len(t_choices) > 1:
      t_choices = t_choices[t_choices != tg]
    t = int(t_choices[rng.integers(len(t_choices))])
    return t, tg


def check_triplet(table: PairTable, source: int, target: int,
                  ground_truth: int) -> list[str]:
  """The pair-rule violations of one triplet (empty when it obeys the rule)."""
  problems = []
  a, e = table.identity_key(source), table.expression(source)
  b = table.identity_key(target)
  if table.identity_key(ground_truth) != b:
    problems.append('x_tg is not the identity of x_t')
  if table.expression(ground_truth) != e:
    problems.append('x_tg does not have the expression of x_s')
  if b == a and len(table.identities_with[e]) > 1:
    problems.append('target identity equals source identity although another '
                    'identity has the expression')
  if target == ground_truth and len(table.by_identity[b]) > 1:
    problems.append('x_t and x_tg are the same image although b has others')
  return problems


def remap(keys: np.ndarray, mapping: Mapping[int, int]) -> np.ndarray:
  """Maps identity keys to contiguous labels (int32)."""
  return np.asarray([mapping[int(k)] for k in keys], np.int32)
