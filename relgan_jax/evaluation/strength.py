"""Expression strength: how much of the target person's own change between
expressions a reenactment draws (issue 14's "the grid's rows visibly
differ", as a number).

Paper names: `x_s` (source face: the expression), `x_t` (target face: the
person), `x_bar = Gde(Ges(x_s), Get(x_t))`.

Expression transfer (disentanglement.py) asks whether a classifier reads
x_s's expression in x_bar; a faint, blurred mouth can pass that while the
reenactment grid's rows look alike. This asks how much of the change a
viewer would see is drawn: each test person keeps one x_t, the source's
expression varies, and x_bar's change is projected on the change between
that person's own photos of the same expressions. Expression match asks
the transfer question without a classifier: which of the person's own
expression changes x_bar's change points to (`match_counts`).
"""

from typing import Optional, Sequence

import numpy as np

from relgan_jax.data import pairs


def strength_pairs(expressions: np.ndarray, persons: np.ndarray,
                   class_names: Sequence[str], *, sources: int,
                   seed: int) -> tuple[np.ndarray, np.ndarray]:
  """(x_s, x_t positions) for `expression_strength`: one fixed x_t per person
  (their first neutral image, else their first image) with, for each
  expression, up to `sources` x_s of other people showing it (seeded).
  Only people with two photos of each of two expressions or more, the ones
  `expression_strength` can compare with (none where identities are
  unknown). `persons`: one key per image (`disentanglement.person_keys`)."""
  expressions, persons = np.asarray(expressions), np.asarray(persons)
  neutral = pairs.neutral_class(class_names, missing=-1)
  rng = np.random.default_rng(seed)
  src, tgt = [], []
  for b in np.unique(persons):
    own = np.flatnonzero(persons == b)
    if (np.bincount(expressions[own]) >= 2).sum() < 2:
      continue
    calm = own[expressions[own] == neutral]
    target = int((calm if len(calm) else own)[0])
    for e in np.unique(expressions):
      pool = np.flatnonzero((expressions == e) & (persons != b))
      if len(pool):
        picked = rng.choice(pool, min(sources, len(pool)), replace=False)
        src += sorted(int(k) for k in picked)
        tgt += [target] * len(picked)
  return np.asarray(src, np.int64), np.asarray(tgt, np.int64)


def _person_changes(x_bar, source_expressions, target_persons, images,
                    expressions, persons):
  """For each target person b with at least two comparable expressions:
  (labels, D, P, P_a, P_b), each array [K, ...] over b's expressions e (those
  with x_bar and at least two photos of b): D(e) the mean x_bar drawn from
  sources showing e minus the mean of those means over e; P(e) the same for
  b's photos showing e; P_a, P_b from alternate halves of the photos."""
  x_bar, images = (np.asarray(a, np.float64) for a in (x_bar, images))
  for b in np.unique(target_persons):
    cells = []
    for e in np.unique(source_expressions[target_persons == b]):
      photos = np.flatnonzero((persons == b) & (expressions == e))
      if len(photos) >= 2:
        cells.append((int(e), x_bar[(target_persons == b)
                                    & (source_expressions == e)].mean(0),
                      images[photos].mean(0), images[photos[0::2]].mean(0),
                      images[photos[1::2]].mean(0)))
    if len(cells) >= 2:
      labels, *means = zip(*cells)
      yield (labels,) + tuple(np.stack(m) - np.stack(m).mean(0) for m in means)


def strength_sums(x_bar: np.ndarray, source_expressions: np.ndarray,
                  target_persons: np.ndarray, images: np.ndarray,
                  expressions: np.ndarray,
                  persons: np.ndarray) -> dict[int, tuple[float, float]]:
  """The sums both strength measures reduce, per source expression e:
  {e: (sum over people b of <D(e), P(e)>, of <P_a(e), P_b(e)>)}.

  For each target person b (one fixed x_t, `strength_pairs`) and each
  expression e with x_bar and at least two photos of b: D(e), the mean of
  the x_bar drawn from sources showing e minus the mean of those means over
  e, and P(e), the same for b's photos showing e; P_a and P_b are P from
  alternate halves of b's photos. A person counts only with two such
  expressions.
  """
  sums = {}
  for labels, d, p, p_a, p_b in _person_changes(
      x_bar, source_expressions, target_persons, images, expressions,
      persons):
    for k, e in enumerate(labels):
      drawn, real = sums.get(e, (0.0, 0.0))
      sums[e] = (drawn + float(np.sum(d[k] * p[k])),
                 real + float(np.sum(p_a[k] * p_b[k])))
  return sums


def _unit_rows(v: np.ndarray) -> np.ndarray:
  return v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)


def match_counts(x_bar: np.ndarray, source_expressions: np.ndarray,
                 target_persons: np.ndarray, images: np.ndarray,
                 expressions: np.ndarray,
                 persons: np.ndarray) -> dict[int, tuple[int, int, float]]:
  """Which of the person's own expressions x_bar's change looks like, per
  source expression e: {e: (matched, cells, sum of 1/K)}.

  A cell is a target person b and an expression e (D(e) and P(c) as in
  `strength_sums`, over b's K comparable expressions c). It is matched when
  D(e), the change x_bar draws as the source shows e, points closer (cosine
  in pixels) to P(e) than to any other P(c): the change b's own photos show
  for e. A classifier-free expression transfer: no network reads x_bar, so
  a G trained against a classifier (De, the expression reader) cannot pass
  it by drawing what that classifier reads; chance is 1/K per cell. A
  change of zero (G ignores f(e)) matches nothing.
  """
  counts = {}
  for labels, d, p, _, _ in _person_changes(
      x_bar, source_expressions, target_persons, images, expressions,
      persons):
    _tally(counts, labels, d, p)
  return counts


def photo_match_counts(x_bar: np.ndarray, source_expressions: np.ndarray,
                       target_persons: np.ndarray, images: np.ndarray,
                       expressions: np.ndarray, persons: np.ndarray
                       ) -> dict[int, tuple[int, int, float]]:
  """`match_counts`' reference on the same cells, from the photos alone:
  b's change for e in one half of their photos, P_a(e), matched against
  the other half's, P_b(c). What the measure reads of real faces: photo-to-
  photo differences (lighting, grain, a pixel of misalignment) lower it
  most for the expressions whose change is a few pixels (x_bar, drawn from
  class means of smooth faces, can exceed it)."""
  counts = {}
  for labels, _, _, p_a, p_b in _person_changes(
      x_bar, source_expressions, target_persons, images, expressions,
      persons):
    _tally(counts, labels, p_a, p_b)
  return counts


def _tally(counts: dict, labels: Sequence[int], changes: np.ndarray,
           references: np.ndarray) -> None:
  """Counts, for each row k of `changes`, whether it is nearest in cosine
  to row k of `references` (a zero change matches nothing)."""
  changes = changes.reshape(len(changes), -1)
  references = references.reshape(len(references), -1)
  cosine = _unit_rows(changes) @ _unit_rows(references).T
  for k, e in enumerate(labels):
    hit = bool(np.any(changes[k]) and np.argmax(cosine[k]) == k)
    matched, cells, chance = counts.get(e, (0, 0, 0.0))
    counts[e] = (matched + hit, cells + 1, chance + 1.0 / len(labels))


def expression_match(counts: dict[int, tuple[int, int, float]]
                     ) -> tuple[Optional[float], Optional[float]]:
  """(matched cells, chance) in % over all cells of `match_counts`; (None,
  None) when there are none."""
  cells = sum(c for _, c, _ in counts.values())
  if not cells:
    return None, None
  return (100.0 * sum(m for m, _, _ in counts.values()) / cells,
          100.0 * sum(h for _, _, h in counts.values()) / cells)


def match_by_expression(counts: dict[int, tuple[int, int, float]],
                        num_classes: int) -> list[Optional[float]]:
  """`expression_match` of each source expression alone, % (a list by class;
  None where no cell has it)."""
  out = [None] * num_classes
  for e, (matched, cells, _) in counts.items():
    out[e] = 100.0 * matched / cells
  return out


def expression_strength(sums: dict[int, tuple[float, float]]
                        ) -> Optional[float]:
  """How much of the target person's own expression change x_bar draws, %,
  from `strength_sums`: 100 * sum <D, P> / sum <P_a, P_b> (pixel dot
  products, summed over people and expressions): the part of x_bar's change
  that lies along the real change, over the real change's energy. Noise in
  either (a source's person, texture, grain) is independent of the other,
  so it adds nothing on average (hence the two halves of the photos).
  A decoder that ignores f(e) scores 0, one that draws each expression
  where and as strongly as b's photos show it 100; a blurred drawing scores
  in between. None when no person has two such expressions.
  """
  drawn = sum(d for d, _ in sums.values())
  real = sum(r for _, r in sums.values())
  return 100.0 * drawn / real if real > 0 else None


def strength_by_expression(sums: dict[int, tuple[float, float]],
                           num_classes: int) -> list[Optional[float]]:
  """`expression_strength` of each source expression alone, % (a list by
  class), from `strength_sums`: 100 * sum_b <D(e), P(e)> /
  sum_b <P_a(e), P_b(e)>. One row of the reenactment grid: how far x_bar
  drawn from sources showing e departs from the person's mean x_bar in the
  direction their own photos of e depart from their mean photo. None where
  no person has e (or its real change has no energy)."""
  out = [None] * num_classes
  for e, (drawn, real) in sums.items():
    if real > 0:
      out[e] = 100.0 * drawn / real
  return out
