"""Reenactment triplets: the (identity, expression) -> record table and the pair rule.

REL-GAN (DESIGN.md §4) trains on triplets: a source face x_s (identity a,
expression e), a target face x_t of another identity b, and the ground truth
x_tg, a real image of b wearing expression e. `PairTable` is built once over the
training records and turns the pair rule into random-access lookups:

* b != a is drawn uniformly among the identities that have an image with
  expression e (b = a only when no other identity has one);
* x_tg is drawn uniformly among b's images with expression e (when b = a, an
  image other than x_s if there is one);
* x_t is an image of b whose expression differs from e whenever b has one, so
  that Get(x_t) cannot already show the expression Gde must take from f(e):
  - when e is not neutral and b has neutral images (the class named
    'neutral', or b's stage-1-only records), x_t is drawn uniformly among
    those;
  - else among b's images with another expression than e;
  - else (every image of b shows e) among b's other images, not x_tg when b
    has more than one.

Stage-1-only records (`records.py`: e.g. each CK+ / Oulu-CASIA sequence's
first, neutral frame; expression -1) are x_t candidates only, never x_s or
x_tg. `stage1_records` splits a record list into the sources and the
stage-1-only records of the same identities, which it finds in the whole
dataset: the protocol's training indices hold no stage-1-only record, and the
ones it adds belong to the training people only (folds are by subject).

Records whose identity is unknown (-1, e.g. SFEW) each count as their own
identity, keyed -(1 + record index), so there x_t = x_tg = x_s;
`identity_map` gives every identity key a contiguous label for the
discriminator's Di head.
"""

from typing import Mapping, Optional, Sequence

import numpy as np

NEUTRAL = 'neutral'
# The expression kind of a stage-1-only record in a table without a 'neutral'
# class: a value no protocol expression has.
_TARGET_ONLY = -1


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


def neutral_class(class_names: Sequence[str],
                  missing: Optional[int] = None) -> Optional[int]:
  """Index of the class named 'neutral' (any case), else `missing` (e.g. -1,
  a label no image has, for comparing against labels)."""
  lowered = [str(c).lower() for c in class_names]
  return lowered.index(NEUTRAL) if NEUTRAL in lowered else missing


def stage1_only_mask(dataset) -> np.ndarray:
  """`dataset.stage1_only` as bools (all False when it has none)."""
  flags = getattr(dataset, 'stage1_only', None)
  if flags is None:
    return np.zeros(len(dataset.identities), bool)
  return np.asarray(flags, bool)


def stage1_records(dataset, record_indices: Sequence[int]
                   ) -> tuple[np.ndarray, np.ndarray]:
  """(sources, targets_only) for stage 1 on `record_indices`.

  sources: `record_indices` without stage-1-only records (x_s / x_tg / x_t).
  targets_only: every stage-1-only record of the dataset whose (known)
  identity is among the sources' (x_t only), whether or not it is in
  `record_indices`.
  """
  record_indices = np.asarray(record_indices, np.int64)
  only = stage1_only_mask(dataset)
  sources = record_indices[~only[record_indices]]
  identities = np.asarray(dataset.identities)
  people = np.unique(identities[sources])
  people = people[people >= 0]
  return sources, np.flatnonzero(only & np.isin(identities, people))


class PairTable:
  """The (identity, expression) -> record-index table and the pair rule."""

  def __init__(self, identities: np.ndarray, expressions: np.ndarray,
               record_indices: Sequence[int], *,
               targets_only: Sequence[int] = (),
               neutral: Optional[int] = None):
    """Builds the table.

    Args:
      identities: per-record identity labels of the whole dataset (-1 unknown).
      expressions: per-record expression labels of the whole dataset.
      record_indices: the records that may be x_s, x_tg and x_t (e.g. a fold's
        training set).
      targets_only: records that may only be x_t: neutral faces of known
        identities (stage-1-only records); those of identities without a
        record in `record_indices` are never drawn.
      neutral: the expression label of the neutral class, if there is one.
    """
    record_indices = np.asarray(record_indices, np.int64)
    targets_only = np.asarray(targets_only, np.int64)
    if record_indices.size == 0:
      raise ValueError('PairTable needs at least one record.')
    if np.isin(targets_only, record_indices).any():
      raise ValueError('PairTable: a record is both a source and target-only.')
    self.sources = record_indices
    self.neutral = neutral
    keys = identity_keys(identities, record_indices)
    exprs = np.asarray(expressions)[record_indices].astype(np.int64)
    t_keys = identity_keys(identities, targets_only)
    if (t_keys < 0).any():
      raise ValueError('PairTable: target-only records need known identities.')
    self._key = dict(zip(record_indices.tolist(), keys.tolist()))
    self._key.update(zip(targets_only.tolist(), t_keys.tolist()))
    self._expr = dict(zip(record_indices.tolist(), exprs.tolist()))
    self._expr.update(zip(targets_only.tolist(), np.asarray(
        expressions)[targets_only].astype(np.int64).tolist()))
    self.targets_only = frozenset(targets_only.tolist())
    by_pair: dict[tuple[int, int], list[int]] = {}
    by_identity: dict[int, list[int]] = {}
    for r, k, e in zip(record_indices.tolist(), keys.tolist(), exprs.tolist()):
      by_pair.setdefault((k, e), []).append(r)
      by_identity.setdefault(k, []).append(r)
    self.by_pair = {p: np.asarray(v) for p, v in by_pair.items()}
    with_expr: dict[int, list[int]] = {}
    for k, e in by_pair:
      with_expr.setdefault(e, []).append(k)
    self.identities_with = {e: np.asarray(sorted(v)) for e, v in with_expr.items()}
    # x_t candidates per identity: its records and its target-only records,
    # with their expression kind (target-only ones count as neutral).
    kind = _TARGET_ONLY if neutral is None else int(neutral)
    for r, k in zip(targets_only.tolist(), t_keys.tolist()):
      if k in by_identity:
        by_identity[k].append(r)
    self.by_identity = {k: np.asarray(v) for k, v in by_identity.items()}
    self._kinds = {k: np.asarray([kind if r in self.targets_only
                                  else self._expr[r] for r in v])
                   for k, v in self.by_identity.items()}

  @classmethod
  def from_dataset(cls, dataset, record_indices: Sequence[int]) -> 'PairTable':
    """The table of stage 1 on `record_indices`: sources and the same people's
    stage-1-only records (`stage1_records`), neutral = the class named
    'neutral' of the manifest, if any."""
    sources, targets_only = stage1_records(dataset, record_indices)
    if not sources.size:
      raise ValueError(f'{len(record_indices)} stage-1 records, none of them '
                       'a protocol record (all stage-1-only).')
    classes = getattr(dataset, 'manifest', {}).get('expression_classes', ())
    return cls(dataset.identities, dataset.expressions, sources,
               targets_only=targets_only, neutral=neutral_class(classes))

  @property
  def num_records(self) -> int:
    """How many records the pair rule can draw: sources and target-only."""
    return len(self._key)

  def identity_key(self, record: int) -> int:
    return self._key[record]

  def expression(self, record: int) -> int:
    """The record's expression label (-1 for a stage-1-only record)."""
    return self._expr[record]

  def target_choices(self, b: int, e: int, tg: int) -> tuple[np.ndarray, str]:
    """The x_t candidates for identity key b, source expression e and ground
    truth tg, and which branch of the rule gave them ('neutral', 'other
    expression' or 'any other image')."""
    records, kinds = self.by_identity[b], self._kinds[b]
    calm = (kinds == (_TARGET_ONLY if self.neutral is None else self.neutral))
    if e != self.neutral and calm.any():
      return records[calm], 'neutral'
    differ = kinds != e
    if differ.any():
      return records[differ], 'other expression'
    if len(records) > 1:
      return records[records != tg], 'any other image'
    return records, 'any other image'

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
    t_choices, _ = self.target_choices(b, e, tg)
    t = int(t_choices[rng.integers(len(t_choices))])
    return t, tg


def check_triplet(table: PairTable, source: int, target: int,
                  ground_truth: int) -> list[str]:
  """The pair-rule violations of one triplet (empty when it obeys the rule)."""
  problems = []
  if source in table.targets_only:
    problems.append('x_s is a stage-1-only record')
  if ground_truth in table.targets_only:
    problems.append('x_tg is a stage-1-only record')
  a, e = table.identity_key(source), table.expression(source)
  b = table.identity_key(target)
  if table.identity_key(ground_truth) != b:
    problems.append('x_tg is not the identity of x_t')
  if table.expression(ground_truth) != e:
    problems.append('x_tg does not have the expression of x_s')
  if b == a and len(table.identities_with.get(e, ())) > 1:
    problems.append('target identity equals source identity although another '
                    'identity has the expression')
  if b not in table.by_identity:
    return problems + ['x_t is of an identity without source records']
  if source in table.targets_only:
    return problems  # No rule for x_t without a real source expression.
  choices, branch = table.target_choices(b, e, ground_truth)
  if target not in set(choices.tolist()):
    problems.append({
        'neutral': 'x_t is not a neutral image of b although b has one and '
                   'x_s is not neutral',
        'other expression': 'x_t has the expression of x_s although b has an '
                            'image with another expression',
        'any other image': 'x_t and x_tg are the same image although b has '
                           'others',
    }[branch])
  return problems


def remap(keys: np.ndarray, mapping: Mapping[int, int]) -> np.ndarray:
  """Maps identity keys to contiguous labels (int32)."""
  return np.asarray([mapping[int(k)] for k in keys], np.int32)
