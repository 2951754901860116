"""Tests for relgan_jax.evaluation.stage2 (and relgan_jax.evaluation.features): classifiers on
features, feature extraction with the exported encoder, the MLP's augmented
training views, and the CNN baseline. The identity probe is tested in
test_disentanglement.py."""

import jax
import numpy as np
import pytest

from configs import tiny
from relgan_jax.evaluation import baseline
from relgan_jax.evaluation import features
from relgan_jax.evaluation import run_files
from relgan_jax.evaluation import stage2
from relgan_jax.model import models


def _blobs(n_per_class, num_classes, dim, *, seed, spread=0.5):
  """Train and test Gaussian blobs around the same random class centres."""
  rng = np.random.default_rng(seed)
  centres = rng.normal(size=(num_classes, dim)) * 2.0
  y = np.repeat(np.arange(num_classes), n_per_class)
  out = []
  for _ in range(2):
    f = centres[y] + spread * rng.normal(size=(len(y), dim))
    out.append((f.astype(np.float32) * 7.0 + 3.0, y))  # Not standardised.
  return out


def test_accuracy_and_confusion_by_hand():
  acc, cm = stage2.accuracy_and_confusion([0, 0, 1, 2, 2], [0, 1, 1, 2, 0], 3)
  assert acc == pytest.approx(60.0)
  np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 1]])


def test_epoch_batches_cover_every_example():
  rng = np.random.default_rng(0)
  batches = features.epoch_batches(rng, 10, 4)
  assert batches.shape == (3, 4)
  assert set(batches.ravel()[:10]) == set(range(10))


def test_mlp_learns_separable_features_and_dropout_is_used():
  config = tiny.get_config()
  config.stage2.mlp_epochs = 30
  (f, y), (f_test, y_test) = _blobs(20, 4, 30, seed=0)
  train = stage2.Features(f, y.astype(np.int32), np.zeros_like(y),
                          np.arange(len(y)))
  clf = stage2.train_mlp(train, 4, config, seed=0)
  acc, _ = stage2.accuracy_and_confusion(
      y_test, clf.logits(f_test).argmax(-1), 4)
  assert acc >= 95.0
  # Standardisation statistics come from the training features.
  np.testing.assert_allclose(clf.mean, f.mean(0), rtol=1e-5, atol=1e-4)
  mlp = stage2.build_mlp(config, 4)
  assert mlp.num_expressions == 4
  assert mlp.dropout_rate == config.stage2.dropout
  assert tuple(mlp.hidden) == tuple(config.stage2.mlp_hidden)


# --- With the real encoder, pipeline and a tiny synthetic set -----------------


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
  from relgan_jax.data import records
  from relgan_jax.data import synthetic_set as synthetic
  out = str(tmp_path_factory.mktemp('synthetic'))
  synthetic.generate(out, num_identities=6, num_folds=2, seed=0, size=37,
                     neutral_images=2, images_per_intensity=1, workers=1)
  return records.PreparedDataset(out)


def _tiny_config():
  config = tiny.get_config()
  config.stage2.baseline_epochs = 1
  return config


def test_exported_encoder_restores_alone_and_matches_g(tiny_data, tmp_path):
  from relgan_jax.data import input_pipeline
  config = _tiny_config()
  generator = models.build_generator(config)
  x = jax.numpy.zeros((1, 32, 32, 3))
  g_params = jax.jit(generator.init)(jax.random.key(1), x, x)['params']
  path = run_files.export_encoder(g_params, config, str(tmp_path / 'enc'))
  # Only Ges is on disk: the restored tree is Ges's, nothing of Get/Gde/D.
  ges, ges_params = run_files.load_encoder(path)
  assert isinstance(ges, models.Ges)
  assert set(ges_params) == set(g_params['Ges'])
  jax.tree.map(np.testing.assert_array_equal, ges_params, g_params['Ges'])

  indices = np.arange(0, len(tiny_data), 7)
  feats = stage2.extract_features(stage2.ges_encoder_fn(ges, ges_params),
                                  tiny_data, indices, config, batch_size=8)
  np.testing.assert_array_equal(feats.index, indices)
  assert feats.f.shape == (len(indices), config.model.f_e_dim)
  images = np.concatenate(
      [b['image'][b['mask']] for b in input_pipeline.eval_batches(
          tiny_data, indices, config, batch_size=8)])
  encode_in_g = jax.jit(lambda p, x: generator.apply(
      {'params': p}, input_pipeline.normalize(x),
      method=models.Generator.encode_expression))
  inside_g = encode_in_g(g_params, images)
  np.testing.assert_allclose(feats.f, inside_g, rtol=1e-5, atol=1e-5)
  np.testing.assert_array_equal(feats.expression,
                                tiny_data.expressions[indices])

  # Five-crop averaging: the mean of f(e) over the five crops.
  five = stage2.extract_features(stage2.ges_encoder_fn(ges, ges_params),
                                 tiny_data, indices[:3], config, batch_size=4,
                                 five_crop=True)
  crops = next(input_pipeline.eval_batches(tiny_data, indices[:3], config,
                                           batch_size=3, five_crop=True))
  expected = encode_in_g(g_params, crops['image'].reshape(15, 32, 32, 3))
  expected = np.asarray(expected).reshape(3, 5, -1).mean(1)
  np.testing.assert_allclose(five.f, expected, rtol=1e-5, atol=1e-5)


def test_augmented_batches_only_use_given_records(tiny_data):
  config = _tiny_config()
  train_idx = np.flatnonzero(tiny_data.expressions == 4)  # Only 'happy'.
  it = baseline.augmented_batches(tiny_data, train_idx, config, batch_size=8,
                                 seed=3)
  images, labels = next(it)
  assert images.shape == (8, 32, 32, 3) and images.dtype == np.uint8
  assert set(labels) == {4}
  again, _ = next(baseline.augmented_batches(tiny_data, train_idx, config,
                                            batch_size=8, seed=3))
  np.testing.assert_array_equal(images, again)  # Deterministic given seed.
  # Its crops are kept once drawn (the default); computed at every draw they
  # are the same, over two epochs and a batch.
  every_draw = _tiny_config()
  every_draw.data.keep_crops_mib = 0
  kept, computed = (baseline.augmented_batches(tiny_data, train_idx, c,
                                               batch_size=8, seed=5)
                    for c in (config, every_draw))
  for _ in range(2 * -(-len(train_idx) // 8) + 1):
    np.testing.assert_array_equal(next(kept)[0], next(computed)[0])


def test_augmented_batches_compute_each_crop_once(tiny_data, monkeypatch):
  from relgan_jax.data import augment  # pylint: disable=import-outside-toplevel
  config = _tiny_config()
  config.augment.rotations = (3.0,)  # One geometry per face (flips aside).
  config.augment.five_crops = False
  train_idx = np.arange(0, len(tiny_data), 4)
  computed = []
  apply = augment.apply
  monkeypatch.setattr(augment, 'apply',
                      lambda *a, **k: computed.append(1) or apply(*a, **k))
  it = baseline.augmented_batches(tiny_data, train_idx, config, batch_size=8,
                                  seed=0)
  draws = 0
  while draws < 3 * len(train_idx):  # Three epochs.
    draws += len(next(it)[0])
  assert len(computed) == len(train_idx)


def test_baseline_trains_and_gives_penultimate_features(tiny_data):
  config = _tiny_config()
  train_idx = np.arange(0, len(tiny_data), 2)
  module, variables = baseline.train_baseline(config, tiny_data, train_idx, 7,
                                            seed=0)
  fresh = jax.jit(module.init)(jax.random.key(0),
                               jax.numpy.zeros((1, 32, 32, 3)))
  moved = jax.tree.map(lambda a, b: float(np.abs(a - b).max()),
                       variables['params'], fresh['params'])
  assert max(jax.tree.leaves(moved)) > 0  # The steps updated the weights.
  logits, feats = baseline.encoder_fn(module, variables)(
      np.zeros((2, 32, 32, 3), np.uint8))
  assert logits.shape == (2, 7)
  # Ges trunk at 32x32: 1x1 spatial, round(512 * 0.125) = 64 channels.
  assert feats.shape == (2, 64)


def test_a_second_fold_reuses_the_first_folds_programs(tiny_data):
  # Every fold trains a new baseline and encodes with a new Ges: with equal
  # networks and shapes they must run the programs the first fold compiled
  # (per-call closures recompiled them all: 11 programs, 12.7 s of XLA
  # compilation in the demo's second fold).
  config = _tiny_config()
  ges = models.Ges(image_size=32, width=config.model.width)
  programs = (baseline._train_step, baseline._encode, features.encode_images)
  trained = []
  for fold, start in enumerate((0, 1)):
    train_idx = np.arange(start, 32, 2)  # Equal sizes, other records.
    module, variables = baseline.train_baseline(config, tiny_data, train_idx,
                                                7, seed=fold)
    logits, _ = baseline.encoder_fn(module, variables)(
        np.zeros((2, 32, 32, 3), np.uint8))
    ges_params = ges.init(jax.random.key(fold), jax.numpy.zeros((1, 32, 32, 3)))
    f_e = stage2.ges_encoder_fn(ges, ges_params)(
        np.zeros((2, 32, 32, 3), np.uint8))
    trained.append((variables, np.asarray(logits), np.asarray(f_e)))
    if fold == 0:
      compiled = [p._cache_size() for p in programs]
  assert [p._cache_size() for p in programs] == compiled
  # The same programs, not the same results: each fold's own weights.
  (v0, logits0, f0), (v1, logits1, f1) = trained
  assert not np.allclose(logits0, logits1) and not np.allclose(f0, f1)
  assert not np.allclose(v0['params']['head']['kernel'],
                         v1['params']['head']['kernel'])


def _mean_colour(images):
  """A stand-in encoder: each crop's mean colour (numpy, no compile)."""
  return np.asarray(images, np.float32).mean(axis=(1, 2))


def test_mlp_trains_on_centre_crops_plus_augmented_views(tiny_data,
                                                         monkeypatch):
  config = _tiny_config()
  train_idx = np.arange(0, len(tiny_data), 5)
  n, views = len(train_idx), 3
  centre = stage2.extract_features(_mean_colour, tiny_data, train_idx, config,
                                   batch_size=8)
  augmented = stage2.augmented_features(_mean_colour, tiny_data, train_idx,
                                        config, views=views, seed=4,
                                        batch_size=8)
  assert augmented.f.shape == (views * n, 3)
  # View-major: every record once per view, its labels repeated.
  np.testing.assert_array_equal(augmented.index, np.tile(train_idx, views))
  np.testing.assert_array_equal(augmented.expression,
                                np.tile(centre.expression, views))
  np.testing.assert_array_equal(augmented.identity,
                                np.tile(centre.identity, views))
  # The views are augmented crops (not the centre crop), and reproducible,
  # whether crops are kept once drawn (the default) or not.
  assert not np.allclose(augmented.f, np.tile(centre.f, (views, 1)))
  every_draw = _tiny_config()
  every_draw.data.keep_crops_mib = 0
  again = stage2.augmented_features(_mean_colour, tiny_data, train_idx,
                                    every_draw, views=views, seed=4,
                                    batch_size=8)
  np.testing.assert_array_equal(augmented.f, again.f)

  f, labels = stage2.mlp_training_set(centre, augmented)
  assert f.shape == ((views + 1) * n, 3)
  np.testing.assert_array_equal(labels, np.tile(centre.expression, views + 1))
  np.testing.assert_array_equal(f[:n], centre.f)  # Centre crops first.
  seen = {}

  def spy(module, f, labels, **kwargs):
    seen.update(f=f, labels=labels, epochs=kwargs['epochs'])
    return 'trained'

  monkeypatch.setattr(stage2, 'train_classifier', spy)
  assert stage2.train_mlp(centre, 7, config, seed=0,
                          augmented=augmented) == 'trained'
  assert seen['f'].shape == ((views + 1) * n, 3)
  np.testing.assert_array_equal(seen['labels'], labels)
  assert seen['epochs'] == config.stage2.mlp_epochs
  stage2.train_mlp(centre, 7, config, seed=0)  # No views: centre crops only.
  assert seen['f'].shape == (n, 3)
  with pytest.raises(ValueError, match='outside the training split'):
    stage2.mlp_training_set(centre, stage2.Features(
        augmented.f[:1], augmented.expression[:1], augmented.identity[:1],
        np.array([train_idx[0] + 1], np.int32)))


def test_unaugmented_views_equal_the_centre_crop(tiny_data):
  """With no crop place, rotation or flip to draw, every view is the centre
  crop: the views go through the same crop code as evaluation."""
  config = _tiny_config()
  config.augment.five_crops = False
  config.augment.rotations = (0.0,)
  config.augment.flip = False
  idx = np.arange(1, len(tiny_data), 9)
  centre = stage2.extract_features(_mean_colour, tiny_data, idx, config,
                                   batch_size=8)
  views = stage2.augmented_features(_mean_colour, tiny_data, idx, config,
                                    views=2, seed=0, batch_size=8)
  np.testing.assert_allclose(views.f, np.tile(centre.f, (2, 1)), rtol=1e-6)
  assert config.stage2.mlp_augment_views == 8  # The default.
  with pytest.raises(ValueError, match='mlp_augment_views'):
    stage2.augmented_features(_mean_colour, tiny_data, idx, config, views=-1,
                              seed=0)
  empty = stage2.augmented_features(_mean_colour, tiny_data, idx, config,
                                    views=0, seed=0)
  assert len(empty) == 0
