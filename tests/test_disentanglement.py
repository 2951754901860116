"""Tests for relgan_jax.evaluation.disentanglement: retrieval, the identity probe, the
expression-transfer pairs and counts, the coarse-pixel identity measure and
the untrained-Ges reference, on hand-made arrays (values worked out by hand),
plus one fold on a tiny synthetic set."""

import jax
import numpy as np
import optax
import pytest

from configs import tiny
from relgan_jax.evaluation import disentanglement as dis
from relgan_jax.evaluation import stage2
from relgan_jax.model import models
from relgan_jax.stage1 import gan_steps

# Six points whose neighbours are known: (0,0)<->(1,0), (10,0)<->(10,2),
# (30,0)<->(33,0) (distances 1, 2, 3; every other pair is farther).
POINTS = np.array([[0, 0], [1, 0], [10, 0], [10, 2], [30, 0], [33, 0]],
                  np.float32)
EXPRESSIONS = np.array([0, 0, 1, 2, 1, 1])
IDENTITIES = np.array([5, 6, 5, 5, 7, 8])


def test_nearest_neighbours_by_hand():
  np.testing.assert_array_equal(dis.nearest_neighbours(POINTS),
                                [1, 0, 3, 2, 5, 4])
  np.testing.assert_array_equal(
      dis.nearest_neighbours(np.array([[9.0, 1.0], [29.0, 0.0]]), POINTS),
      [2, 4])  # With a gallery, a query may match any row.


def test_retrieval_by_hand():
  got = dis.retrieval(POINTS, EXPRESSIONS, IDENTITIES, np.zeros(2), np.ones(2))
  # Same expression: 0-1, 1-0, 4-5, 5-4 yes; 2-3 (1 vs 2), 3-2 no: 4/6.
  assert got['same_expression'] == pytest.approx(400 / 6)
  # Same person: only 2-3 and 3-2 (both identity 5): 2/6.
  assert got['same_person'] == pytest.approx(200 / 6)
  # The standardisation is applied: with x divided by 100, (10, 0) is
  # nearest to (1, 0) (0.09 away) and (10, 2) still to (10, 0):
  # same expression 0-1, 1-0, 4-5, 5-4 (4/6); same person only 3-2 (1/6).
  got = dis.retrieval(POINTS + 7.0, EXPRESSIONS, IDENTITIES,
                      np.array([7.0, 7.0]), np.array([100.0, 1.0]))
  assert got['same_expression'] == pytest.approx(400 / 6)
  assert got['same_person'] == pytest.approx(100 / 6)
  unknown = dis.retrieval(POINTS, EXPRESSIONS, -np.ones(6, int), np.zeros(2),
                          np.ones(2))
  assert unknown['same_person'] is None
  with pytest.raises(ValueError, match='>= 2 images'):
    dis.retrieval(POINTS[:1], EXPRESSIONS[:1], IDENTITIES[:1], 0.0, 1.0)


def test_retrieval_chance_by_hand():
  chance = dis.retrieval_chance(EXPRESSIONS, IDENTITIES)
  # Expression counts 2, 3, 1: other images sharing it, out of 5 others:
  # 1, 1, 2, 0, 2, 2 -> 8 / 30.
  assert chance['same_expression'] == pytest.approx(800 / 30)
  # Identity 5 has 3 images (2 others each), the rest 1: 6 / 30.
  assert chance['same_person'] == pytest.approx(600 / 30)


def test_probe_split_disjoint_same_identities():
  identities = np.array([0, 0, 0, 0, 1, 1, 1, 2, -1, -1])
  expressions = np.array([0, 1, 2, 3, 0, 1, 2, 0, 1, 2])
  a, b = dis.probe_split(identities, expressions, seed=0)
  assert not set(a) & set(b)
  assert set(identities[a]) == set(identities[b]) == {0, 1}  # 2: one image.
  assert len(a) == 4 and len(b) == 3
  a2, b2 = dis.probe_split(identities, expressions, seed=0)
  np.testing.assert_array_equal(a, a2)


def test_identity_probe_separates_informative_from_noise():
  rng = np.random.default_rng(0)
  num_ids, per_id = 8, 6
  ids = np.repeat(np.arange(num_ids), per_id)
  expr = np.tile(np.arange(per_id), num_ids)
  informative = rng.normal(size=(num_ids, 16))[ids] + 0.2 * rng.normal(
      size=(len(ids), 16))
  noise = rng.normal(size=(len(ids), 16))
  a, b = dis.probe_split(ids, expr, seed=0)
  good = dis.identity_probe(informative[a], ids[a], informative[b], ids[b],
                            seed=0)
  bad = dis.identity_probe(noise[a], ids[a], noise[b], ids[b], seed=0)
  assert good['chance'] == pytest.approx(100.0 / num_ids)
  assert good['accuracy'] >= 90.0
  assert bad['accuracy'] <= 40.0
  feats = stage2.Features(informative, expr, ids, np.arange(len(ids)))
  assert dis.leakage(feats, 0)['accuracy'] >= 90.0
  no_ids = stage2.Features(noise, expr, -np.ones_like(ids), np.arange(48))
  assert dis.leakage(no_ids, 0) is None  # Nothing to probe (e.g. SFEW).


# --- Reenactment measures -------------------------------------------------------

CLASSES = ('neutral', 'happy', 'sad')


def test_transfer_pairs_by_hand():
  # Person 0: neutral, happy, sad; person 1: neutral, happy; person 2:
  # happy, sad; person 3: happy only.
  expressions = np.array([0, 1, 2, 0, 1, 1, 2, 1])
  identities = np.array([0, 0, 0, 1, 1, 2, 2, 3])
  src, tgt = dis.transfer_pairs(expressions, identities, CLASSES,
                                targets_per_source=2, max_pairs=100, seed=0)
  assert len(src) == 2 * 8  # Every source finds 2 people.
  assert np.all(identities[src] != identities[tgt])
  assert np.all(expressions[src] != expressions[tgt])
  pairs = {}
  for s, t in zip(src, tgt):
    pairs.setdefault(int(s), set()).add(int(t))
  # Happy x_s of person 0: person 1's neutral face and person 2's sad one
  # (person 3 has only happy faces).
  assert pairs[1] == {3, 6}
  # Happy x_s of person 2: the neutral faces of persons 0 and 1.
  assert pairs[5] == {0, 3}
  # Neutral x_s of person 0: person 1 shows no other expression than happy.
  assert 4 in pairs[0] and pairs[0] - {4} <= {5, 6, 7}
  again = dis.transfer_pairs(expressions, identities, CLASSES,
                             targets_per_source=2, max_pairs=100, seed=0)
  np.testing.assert_array_equal(np.stack([src, tgt]), np.stack(again))
  few = dis.transfer_pairs(expressions, identities, CLASSES,
                           targets_per_source=2, max_pairs=5, seed=0)
  assert len(few[0]) == 5
  # Unknown identities: every image is its own person.
  src, tgt = dis.transfer_pairs(expressions, -np.ones(8, int), CLASSES,
                                targets_per_source=3, max_pairs=100, seed=1)
  assert len(src) == 24 and np.all(src != tgt)


def test_coarse_pixels_by_hand():
  image = np.zeros((1, 32, 32, 3), np.uint8)
  image[0, 0::2, 0::2, 0] = 0
  image[0, 0::2, 1::2, 0] = 4
  image[0, 1::2, 0::2, 0] = 8
  image[0, 1::2, 1::2, 0] = 12  # Every 2x2 area averages to 6.
  image[0, :2, :2, 1] = 40  # One area of channel 1: 40.
  coarse = dis.coarse_pixels(image).reshape(16, 16, 3)
  np.testing.assert_array_equal(coarse[..., 0], 6.0)
  assert coarse[0, 0, 1] == 40.0 and coarse[..., 1].sum() == 40.0
  with pytest.raises(ValueError, match='do not split'):
    dis.coarse_pixels(np.zeros((1, 24, 24, 3), np.uint8))


def _faces():
  """4 people x 2 images, 32x32: a person is a flat colour (and a darker
  band at a person-specific height), the expression one pixel's value."""
  colours = np.array([[200, 40, 40], [40, 200, 40], [40, 40, 200],
                      [200, 200, 40]], np.uint8)
  identities = np.repeat(np.arange(4), 2)
  expressions = np.array([1, 2, 0, 1, 2, 0, 1, 2])
  images = np.zeros((8, 32, 32, 3), np.uint8)
  for k, (i, e) in enumerate(zip(identities, expressions)):
    images[k] = colours[i]
    images[k, 4 + 6 * i:8 + 6 * i] //= 2
    images[k, 0, 0, 0] = 10 * e  # The "expression", averaged away coarsely.
  return images, expressions, identities


def _read_pixel(images):
  """A stub classifier: the expression pixel, class 2 misread as 0."""
  e = np.asarray(images)[:, 0, 0, 0] // 10
  return np.eye(3)[np.where(e == 2, 0, e)]


def test_reenactment_measures_count_by_hand():
  images, expressions, identities = _faces()
  src = np.array([0, 1, 2, 3, 4, 5, 6, 7, 0, 2])
  tgt = np.array([2, 4, 6, 0, 1, 3, 2, 5, 7, 5])
  calls = []

  def copy_target_with_source_expression(x_s, x_t):
    calls.append(len(x_s))
    out = np.array(x_t)
    out[:, 0, 0, 0] = x_s[:, 0, 0, 0]
    return out

  ideal = dis.reenactment_measures(
      copy_target_with_source_expression, images, expressions, identities,
      (src, tgt), num_classes=3, classify_fn=_read_pixel, batch_size=4)
  assert calls == [4, 4, 4]  # 10 pairs in fixed batches of 4 (padded).
  # The stub classifier misreads sad (2): sources 1, 4, 7 of the 10 pairs.
  assert ideal['expression_transfer'] == pytest.approx(70.0)
  # By x_s's class (3, 4 and 3 sources of classes 0, 1, 2): sad never.
  assert ideal['expression_transfer_by_class'] == [100.0, 100.0, 0.0]
  # Real images: sad at positions 1, 4, 7 of 8 misread.
  assert ideal['baseline_real_accuracy'] == pytest.approx(500 / 8)
  assert ideal['expression_chance'] == pytest.approx(100 / 3)
  assert ideal['identity_kept'] == 100.0 and ideal['identity_source'] == 0.0
  assert ideal['identity_chance'] == pytest.approx(25.0)  # 2 of 8 images.
  assert ideal['num_pairs'] == 10

  copy_source = dis.reenactment_measures(
      lambda x_s, x_t: x_s, images, expressions, identities, (src, tgt),
      num_classes=3, classify_fn=_read_pixel, batch_size=4)
  assert copy_source['identity_kept'] == 0.0
  assert copy_source['identity_source'] == 100.0
  copy_target = dis.reenactment_measures(
      lambda x_s, x_t: x_t, images, expressions, identities, (src, tgt),
      num_classes=3, batch_size=3)
  assert copy_target['identity_kept'] == 100.0
  assert copy_target['expression_transfer'] is None  # No classifier.
  assert copy_target['expression_transfer_by_class'] is None
  # x_t's expression: pairs 0 and 1 (sources of classes 1 and 2) draw
  # targets of classes 0 and 2; no source shows class 0.
  two = dis.reenactment_measures(
      lambda x_s, x_t: x_t, images, expressions, identities,
      (src[:2], tgt[:2]), num_classes=3, classify_fn=_read_pixel,
      batch_size=4)
  assert two['expression_transfer_by_class'] == [None, 0.0, 0.0]
  assert dis.reenactment_measures(
      lambda x_s, x_t: x_t, images, expressions, identities,
      (np.zeros(0, int), np.zeros(0, int)), num_classes=3) is None


def test_untrained_ges_is_the_ges_stage1_starts_from():
  config = tiny.get_config()
  ges, variables = dis.untrained_ges(config)
  assert isinstance(ges, models.Ges) and set(variables) == {'params'}
  g_model = models.build_generator(config)
  d_model = models.build_discriminator(config, 3, 4)
  mesh = gan_steps.make_mesh(jax.devices()[:1])
  state = gan_steps.init_program(g_model, d_model, optax.adam(1e-4),
                                 optax.adam(1e-4), mesh)(
                                     jax.random.PRNGKey(config.seed))
  jax.tree.map(np.testing.assert_array_equal, variables['params'],
               jax.device_get(state.g_params['Ges']))
  x = np.zeros((2, 32, 32, 3), np.uint8)
  assert stage2.ges_encoder_fn(ges, variables)(x).shape == (2, 30)


# --- One fold on a tiny synthetic set --------------------------------------------


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
  from relgan_jax.data import records
  from relgan_jax.data import synthetic_set as synthetic
  out = str(tmp_path_factory.mktemp('synthetic'))
  synthetic.generate(out, num_identities=4, num_folds=2, seed=0, size=37,
                     neutral_images=2, images_per_intensity=1, workers=1)
  return records.PreparedDataset(out)


def test_run_fold_writes_every_measure(tiny_data):
  config = tiny.get_config()
  config.stage2.mlp_augment_views = 2
  config.stage2.transfer_targets = 1
  folds = np.asarray(tiny_data.folds)
  train_idx, test_idx = np.flatnonzero(folds == 1), np.flatnonzero(folds == 0)
  ges, ges_vars = dis.untrained_ges(config)
  handoff = {}
  result = stage2.run_fold(config, tiny_data, train_idx, test_idx, ges,
                           ges_vars, num_classes=7, seed=0, handoff=handoff)
  assert result['relgan']['mlp_train_features'] == 3 * len(train_idx)
  # A random G without compiling G's init: normal draws of every shape.
  x = jax.ShapeDtypeStruct((1, 32, 32, 3), np.float32)
  shapes = jax.eval_shape(models.build_generator(config).init,
                          jax.random.key(1), x, x)
  rng = np.random.default_rng(1)
  g_variables = jax.tree.map(
      lambda a: (0.2 * rng.normal(size=a.shape)).astype(a.dtype), shapes)
  result.update(dis.run_fold(config, tiny_data, train_idx, test_idx, handoff,
                             g_variables=g_variables, num_classes=7, seed=0))
  # Stage 2 here ran on the untrained Ges itself: its MLP, trained the
  # same way, gives the same accuracy as the reference row.
  assert result['untrained_ges']['accuracy'] == pytest.approx(
      result['relgan']['accuracy'])
  assert set(result['identity_leakage']) == {'relgan', 'baseline',
                                             'untrained_ges', 'chance'}
  assert result['identity_leakage']['relgan'] == pytest.approx(
      result['identity_leakage']['untrained_ges'])
  assert set(result['retrieval']) == {'relgan', 'baseline', 'untrained_ges',
                                      'chance'}
  assert result['retrieval']['relgan'] == result['retrieval']['untrained_ges']
  for value in result['retrieval'].values():
    assert 0.0 <= value['same_expression'] <= 100.0
  reen = result['reenactment']
  assert reen['num_pairs'] == len(test_idx)  # One target per source.
  for key in ('expression_transfer', 'baseline_real_accuracy',
              'identity_kept', 'identity_source', 'identity_chance'):
    assert 0.0 <= reen[key] <= 100.0
  assert reen['baseline_real_accuracy'] == pytest.approx(
      result['baseline']['accuracy'])
  # Wired in: a number for the untrained G (its value is
  # tests/test_strength.py's business).
  assert isinstance(reen['expression_strength'], float)
  assert len(reen['expression_transfer_by_class']) == 7
  by_class = reen['expression_strength_by_class']
  assert len(by_class) == 7 and isinstance(by_class[0], float)
  assert 0.0 <= reen['expression_match'] <= 100.0
  assert 0.0 < reen['expression_match_chance'] <= 50.0
  by_class = reen['expression_match_by_class']
  assert len(by_class) == 7 and 0.0 <= by_class[0] <= 100.0
  assert 0.0 <= reen['expression_match_photos'] <= 100.0
  assert len(reen['expression_match_photos_by_class']) == 7
