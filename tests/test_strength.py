"""Expression strength (relgan_jax/evaluation/strength.py), counted by hand."""

import functools

import numpy as np
import pytest

from relgan_jax.data import pairs
from relgan_jax.evaluation import strength

CLASSES = ('neutral', 'happy', 'surprise')
# Two people (0, 1), two photos of each expression (0, 1, 2). Person p's
# photo of expression e is 10 p + 30 e on all 2x2x3 pixels, so its change
# from the person's mean over expressions is 30 (e - 1): energy 12 * 1800.
PERSONS = np.repeat([0, 1], 6)
EXPRESSIONS = np.tile(np.repeat([0, 1, 2], 2), 2)


def _faces(values, grain=None):
  x = np.asarray(values, np.float64)[:, None, None, None] * np.ones((1, 2, 2, 3))
  if grain is not None:  # Per-image texture on one pixel.
    x[:, 0, 0, 0] += grain
  return x


PHOTOS = _faces(10 * PERSONS + 30 * EXPRESSIONS)


def _strength(x_bar, photos=PHOTOS):
  # x_bar[k]: person k // 3 drawn from a source showing expression k % 3.
  return strength.expression_strength(strength.strength_sums(
      x_bar, np.tile([0, 1, 2], 2), np.repeat([0, 1], 3), photos,
      EXPRESSIONS, PERSONS))


def test_expression_strength_by_hand():
  e = np.tile([0, 1, 2], 2)
  # As large as the person's photos change, where they change: 100.
  assert _strength(_faces(30 * e)) == pytest.approx(100.0)
  # Half of it (15 (e - 1) against 30 (e - 1)): 50.
  assert _strength(_faces(50 + 15 * e)) == pytest.approx(50.0)
  # Texture that does not follow the real change (+40 on one pixel for
  # expressions 0 and 2, none for 1: orthogonal to 30 (e - 1)) adds nothing.
  assert _strength(_faces(50 + 15 * e, grain=40.0 * (e != 1))) == (
      pytest.approx(50.0))
  # The opposite change: -100. A copy of x_t ignores f(e): 0.
  assert _strength(_faces(60 - 30 * e)) == pytest.approx(-100.0)
  assert _strength(_faces(np.full(6, 70.0))) == 0.0


def test_strength_by_expression_by_hand():
  e = np.tile([0, 1, 2], 2)
  args = (np.tile([0, 1, 2], 2), np.repeat([0, 1], 3))
  # PHOTOS change 30 (e - 1): expression 1 is their mean (no change to draw).
  by_class = strength.strength_by_expression(strength.strength_sums(
      _faces(15 * e), *args, PHOTOS, EXPRESSIONS, PERSONS), num_classes=4)
  assert by_class == [pytest.approx(50.0), None, pytest.approx(50.0), None]
  # Photos at (0, 30, 90) by expression: changes (-40, -10, 50) from their
  # mean. x_bar at (0, 0, 60): changes (-20, -20, 40). Per expression
  # 800 / 1600, 200 / 100 and 2000 / 2500; over all, 3000 / 4200.
  photos = _faces(10 * PERSONS + np.array([0, 30, 90])[EXPRESSIONS])
  x_bar = _faces(np.array([0, 0, 60])[e])
  sums = strength.strength_sums(x_bar, *args, photos, EXPRESSIONS, PERSONS)
  assert strength.strength_by_expression(sums, num_classes=3) == (
      pytest.approx([50.0, 200.0, 80.0]))
  assert strength.expression_strength(sums) == pytest.approx(
      100 * 3000 / 4200)


def test_expression_strength_ignores_the_photos_own_grain():
  # Grain: the first photo of each (person, e) gets 20 s_e on one pixel, the
  # second 20 s_e on another, s = (1, -2, 1) (orthogonal to e - 1). A plain
  # energy of the photos' means would count it (12 * 1800 + 1200 per
  # person: 94.7 %); the two halves' grain is on different pixels, so their
  # product does not.
  s_e = np.array([1.0, -2.0, 1.0])[EXPRESSIONS]
  first = np.arange(12) % 2 == 0
  photos = PHOTOS.copy()
  photos[first, 0, 0, 0] += 20 * s_e[first]
  photos[~first, 1, 1, 0] += 20 * s_e[~first]
  e = np.tile([0, 1, 2], 2)
  assert _strength(_faces(30 * e), photos) == pytest.approx(100.0)


def test_expression_strength_needs_two_expressions_with_two_photos():
  one_photo_each = np.arange(12) % 2 == 0  # One photo per (person, e).
  sums = strength.strength_sums(
      _faces(np.zeros(6)), np.tile([0, 1, 2], 2), np.repeat([0, 1], 3),
      PHOTOS[one_photo_each], EXPRESSIONS[one_photo_each],
      PERSONS[one_photo_each])
  assert strength.expression_strength(sums) is None
  assert strength.strength_by_expression(sums, num_classes=3) == [None] * 3


def test_strength_pairs_fix_one_neutral_target_per_person():
  persons = np.repeat([0, 1, 2], 6)
  expressions = np.tile([1, 0, 2, 0, 1, 2], 3)
  src, tgt = strength.strength_pairs(expressions, persons, CLASSES,
                                     sources=2, seed=0)
  for b in range(3):
    drawn = persons[tgt] == b
    # One x_t per person: their first neutral image (position 1 of their 6).
    assert set(tgt[drawn]) == {6 * b + 1}
    # Two sources of other people for each expression.
    assert np.all(persons[src[drawn]] != b)
    assert np.bincount(expressions[src[drawn]]).tolist() == [2, 2, 2]
  assert len(set(zip(src, tgt))) == len(src)  # No pair twice.
  # No neutral class: the person's first image; at most the pool's size.
  src, tgt = strength.strength_pairs(expressions, persons, ('a', 'b', 'c'),
                                     sources=10, seed=0)
  assert set(tgt[persons[tgt] == 0]) == {0}
  assert np.bincount(expressions[src[persons[tgt] == 0]]).tolist() == [4, 4, 4]
  # Only people whose photos can be compared: two of each of two expressions.
  persons = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2, 2])
  expressions = np.array([0, 0, 1, 1, 0, 1, 2, 0, 1, 2])
  src, tgt = strength.strength_pairs(expressions, persons, CLASSES,
                                     sources=2, seed=0)
  assert set(tgt) == {0}
  # Unknown identities (each image its own person): no pairs.
  src, tgt = strength.strength_pairs(expressions, np.arange(10), CLASSES,
                                     sources=2, seed=0)
  assert len(src) == len(tgt) == 0


def test_neutral_class_any_case_else_missing():
  assert pairs.neutral_class(['Anger', 'NEUTRAL']) == 1
  assert pairs.neutral_class(['anger', 'happy']) is None
  assert pairs.neutral_class(['anger', 'happy'], missing=-1) == -1


# Expression match: three expressions, each raising its own pixel of a 2x2x3
# face by 60 (photos), so person b's change for e is +40 on pixel e and -20
# on the other two of pixels 0-2: the three changes are at cosine -0.5.
def _pixel_faces(base, lit, amount):
  x = np.zeros((len(base), 2, 2, 3)) + np.asarray(base, np.float64)[
      :, None, None, None]
  for k, pixel in enumerate(lit):
    x[k, pixel // 2, pixel % 2, 0] += amount
  return x


MATCH_PHOTOS = _pixel_faces(10 * PERSONS, EXPRESSIONS, 60.0)


def _matches(x_bar_pixels, photos=MATCH_PHOTOS, expressions=EXPRESSIONS,
             persons=PERSONS, counts_fn=strength.match_counts):
  # x_bar[k]: person k // 3 drawn from a source showing expression k % 3,
  # raising pixel x_bar_pixels[k] by 30 (None: no change).
  lit = [p if p is not None else 3 for p in x_bar_pixels]
  amount = np.where([p is None for p in x_bar_pixels], 0.0, 30.0)
  x_bar = _pixel_faces(np.zeros(6), lit, 1.0) * amount[:, None, None, None]
  return counts_fn(x_bar, np.tile([0, 1, 2], 2), np.repeat([0, 1], 3),
                   photos, expressions, persons)


def test_expression_match_by_hand():
  # Drawn where the person's photos change: every cell matched; chance 1/3.
  counts = _matches([0, 1, 2] * 2)
  assert counts == {0: (2, 2, pytest.approx(2 / 3)),
                    1: (2, 2, pytest.approx(2 / 3)),
                    2: (2, 2, pytest.approx(2 / 3))}
  assert strength.expression_match(counts) == (
      pytest.approx(100.0), pytest.approx(100 / 3))
  # Each source draws the next expression's change: nothing matched.
  assert strength.expression_match(_matches([1, 2, 0] * 2))[0] == 0.0
  # A decoder that ignores f(e) draws no change: nothing matched.
  assert strength.expression_match(_matches([None] * 6))[0] == 0.0
  # Sources showing 1 draw 2's pixel: x_bar's means are 10, 0, 20 on pixels
  # 0-2, so D(0) = (20, 0, -20) points to P(0) (cosines 0.87, 0, -0.87),
  # D(1) = D(2) = (-10, 0, 10) to P(2): e = 0 and 2 matched, 1 not.
  counts = _matches([0, 2, 2] * 2)
  assert strength.match_by_expression(counts, num_classes=4) == [
      100.0, 0.0, 100.0, None]
  assert strength.expression_match(counts)[0] == pytest.approx(200 / 3)


def test_expression_match_chance_counts_each_persons_expressions():
  # Person 1 has one photo of expression 2: two comparable expressions, so
  # chance 1/2 in their cells, 1/3 in person 0's: (3/3 + 2/2) / 5 cells.
  keep = ~((PERSONS == 1) & (EXPRESSIONS == 2) & (np.arange(12) % 2 == 0))
  counts = _matches([0, 1, 2] * 2, MATCH_PHOTOS[keep], EXPRESSIONS[keep],
                    PERSONS[keep])
  assert sum(c for _, c, _ in counts.values()) == 5
  assert strength.expression_match(counts) == (
      pytest.approx(100.0), pytest.approx(40.0))
  assert strength.expression_match({}) == (None, None)


def test_photo_match_reads_half_the_photos_against_the_other_half():
  photo_counts = functools.partial(_matches,
                                   counts_fn=strength.photo_match_counts)
  # Photos that agree: every cell matched, whatever x_bar draws.
  counts = photo_counts([None] * 6)
  assert strength.expression_match(counts) == (
      pytest.approx(100.0), pytest.approx(100 / 3))
  # Person 0's second photos of expressions 1 and 2 (positions 3 and 5) show
  # each other's change: their first half's change for 1 points to the
  # second half's for 2 and back. Person 1's cells all match: 4 of 6.
  lit = EXPRESSIONS.copy()
  lit[3], lit[5] = 2, 1
  counts = photo_counts([0, 1, 2] * 2, _pixel_faces(10 * PERSONS, lit, 60.0))
  assert strength.match_by_expression(counts, num_classes=3) == [
      100.0, 50.0, 50.0]
  assert strength.expression_match(counts)[0] == pytest.approx(200 / 3)
