"""Tests for the stage-1 triplet pipeline, eval batches, pairs and augmentation."""

import collections
import pickle

import numpy as np
import pytest

from configs import tiny
from relgan_jax.data import augment
from relgan_jax.data import folds
from relgan_jax.data import input_pipeline
from relgan_jax.data import pairs
from relgan_jax.data import records
from relgan_jax.data import synthetic_set as synthetic


@pytest.fixture(scope='module')
def data(tmp_path_factory):
  out = str(tmp_path_factory.mktemp('pipeline_data'))
  # 6 people x (2 neutral + 6 x 3 x 1) = 120 records, 3 folds of 2 people.
  synthetic.generate(out, num_identities=6, seed=1, size=40, num_folds=3,
                     neutral_images=2, images_per_intensity=1, workers=1)
  return records.PreparedDataset(out)


def _config(**data):
  config = tiny.get_config()  # 32x32 crops from 37x37, global batch 8.
  for k, v in data.items():
    config.data[k] = v
  return config


def _take(it, n):
  return [next(it) for _ in range(n)]


def _assert_batches_equal(a, b):
  assert len(a) == len(b)
  for x, y in zip(a, b):
    assert x.keys() == y.keys()
    for k in x:
      np.testing.assert_array_equal(x[k], y[k], err_msg=k)


def test_batches_obey_pair_rule_and_fold(data):
  config = _config()
  train, test = folds.split_indices(data, 1)
  it = input_pipeline.stage1_dataset(data, train, config, seed=0, shard_index=0,
                                     shard_count=1, with_indices=True)
  table = pairs.PairTable.from_dataset(data, train)
  assert table.neutral == data.manifest['expression_classes'].index('neutral')
  id_map = input_pipeline.identity_map(data, train)
  assert sorted(id_map.values()) == list(range(4))  # 4 training people.
  test_subjects = set(data.subjects[test])
  n_train = len(train)
  batches = _take(it, n_train // 8)  # Exactly one epoch.
  sources = []
  for b in batches:
    assert b['x_s'].shape == (8, 32, 32, 3) and b['x_s'].dtype == np.uint8
    assert b['x_t'].shape == b['x_tg'].shape == b['x_s'].shape
    for k in ('y_e_s', 'y_i_s', 'y_e_t', 'y_i_t'):
      assert b[k].shape == (8,) and b[k].dtype == np.int32
    for s, t, tg, ye_s, yi_s, ye_t, yi_t in zip(
        b['i_s'], b['i_t'], b['i_tg'], b['y_e_s'], b['y_i_s'], b['y_e_t'],
        b['y_i_t']):
      assert pairs.check_triplet(table, s, t, tg) == []
      assert data.identities[tg] == data.identities[t] != data.identities[s]
      assert data.expressions[tg] == data.expressions[s] and tg != t
      # Every person has neutral images: x_t is one of them unless x_s is
      # neutral, then it shows another expression.
      if data.expressions[s] != table.neutral:
        assert data.expressions[t] == table.neutral
      else:
        assert data.expressions[t] != table.neutral
      assert ye_s == data.expressions[s] and ye_t == data.expressions[t]
      assert yi_s == id_map[data.identities[s]]
      assert yi_t == id_map[data.identities[t]]
      for r in (s, t, tg):  # Nothing of the fold's test people.
        assert data.subjects[r] not in test_subjects
    sources.extend(b['i_s'])
  # One epoch visits every training record once as a source.
  assert sorted(sources) == sorted(train)


def test_same_seed_same_batches_and_resume(data):
  config = _config()
  train, _ = folds.split_indices(data, 0)
  make = lambda seed: input_pipeline.stage1_dataset(
      data, train, config, seed=seed, shard_index=0, shard_count=1)
  a, b = make(3), make(3)
  first = _take(a, 2)
  _assert_batches_equal(first, _take(b, 2))
  assert not np.array_equal(first[0]['x_s'], _take(make(4), 1)[0]['x_s'])
  state = a.get_state()
  expected = _take(a, 2)
  resumed = make(3)
  resumed.set_state(state)
  _assert_batches_equal(_take(resumed, 2), expected)
  # Epochs are reshuffled: epoch 2 starts with other sources than epoch 1.
  per_epoch = len(train) // 8
  c = input_pipeline.stage1_dataset(data, train, config, seed=3, shard_index=0,
                                    shard_count=1, with_indices=True)
  epochs = _take(c, 2 * per_epoch)
  assert not np.array_equal(epochs[0]['i_s'], epochs[per_epoch]['i_s'])


def test_workers_give_the_same_stream_and_resume(data):
  train, _ = folds.split_indices(data, 0)
  kwargs = dict(seed=5, shard_index=0, shard_count=1)
  plain = _take(input_pipeline.stage1_dataset(data, train, _config(), **kwargs), 4)
  it = input_pipeline.stage1_dataset(data, train, _config(num_workers=1), **kwargs)
  try:
    _assert_batches_equal(_take(it, 2), plain[:2])
    state = it.get_state()  # grain's state layout depends on num_workers.
    _take(it, 1)
    it.set_state(state)
    _assert_batches_equal(_take(it, 2), plain[2:])
  finally:
    it.close()


def test_process_shards_split_each_epoch(data):
  config = _config()
  train, _ = folds.split_indices(data, 2)
  per_process = len(train) // 2
  shards = []
  for p in range(2):
    it = input_pipeline.stage1_dataset(data, train, config, seed=0,
                                       shard_index=p, shard_count=2,
                                       with_indices=True)
    bs = _take(it, per_process // 4)
    assert bs[0]['x_s'].shape[0] == 4  # Global batch 8 over 2 processes.
    shards.append(np.concatenate([b['i_s'] for b in bs]))
  assert not set(shards[0]) & set(shards[1])
  both = set(np.concatenate(shards))
  assert len(both) == 2 * per_process and both <= set(train)
  with pytest.raises(ValueError, match='divisible'):
    input_pipeline.stage1_dataset(data, train, config, seed=0, shard_index=0,
                                  shard_count=3)


class _SamePicture:
  """A dataset whose records all hold one picture: geometry is visible."""

  def __init__(self, data):
    self.identities, self.expressions = data.identities, data.expressions
    self.image = np.arange(40 * 40 * 3, dtype=np.int64).reshape(40, 40, 3) % 251
    self.image = self.image.astype(np.uint8)

  def __getitem__(self, i):
    return dict(image=self.image)


def test_target_and_ground_truth_share_geometry(data):
  fake = _SamePicture(data)
  it = input_pipeline.stage1_dataset(fake, np.arange(len(data)), _config(),
                                     seed=0, shard_index=0, shard_count=1)
  differs = 0
  for b in _take(it, 4):
    np.testing.assert_array_equal(b['x_t'], b['x_tg'])
    differs += sum(not np.array_equal(s, t) for s, t in zip(b['x_s'], b['x_t']))
  assert differs >= 16  # x_s draws its own geometry.


def test_stage1_five_crops_off_crops_at_the_centre_only(data):
  fake = _SamePicture(data)
  config = _config()
  config.augment.rotations = (0.0,)  # Crop places alone.
  size = config.model.image_size
  side = augment.margin_side(size, config.augment.margin_ratio)
  centre, mirrored = (augment.apply(fake.image, augment.Geometry(flip=f), size,
                                    side) for f in (False, True))

  def placements(config):
    it = input_pipeline.stage1_dataset(fake, np.arange(len(data)), config,
                                       seed=0, shard_index=0, shard_count=1)
    seen = collections.Counter()
    for b in _take(it, 4):
      for x in np.concatenate([b['x_s'], b['x_t'], b['x_tg']]):
        seen['centre' if np.array_equal(x, centre) else
             'mirrored' if np.array_equal(x, mirrored) else 'other'] += 1
    return seen

  assert placements(config)['other'] > 0  # The default: five places.
  config.augment.stage1_five_crops = False
  off = placements(config)
  assert off['other'] == 0 and off['centre'] > 0 and off['mirrored'] > 0, off


def test_kept_crops_are_apply_s_crops_computed_once():
  image = np.random.default_rng(1).integers(0, 256, (40, 40, 3), np.uint8)
  geometries = [augment.Geometry(p, a, f) for p in range(5)
                for a in (-6.0, 0.0, 3.0) for f in (False, True)]
  reads = []

  def face():
    reads.append(1)
    return image

  def crops_within(max_bytes):
    return augment.KeptCrops(32, 37, num_faces=1, five_crops=True,
                             rotations=(-6.0, 0.0, 3.0), max_bytes=max_bytes)

  kept = crops_within(15 * 32 * 32 * 3)
  assert kept.keeps
  for _ in range(2):
    for g in geometries:
      np.testing.assert_array_equal(kept(7, face, g),
                                    augment.apply(image, g, 32, 37))
  assert len(reads) == 15  # Once per (place, angle): flips and repeats copy.
  assert not kept(7, face, geometries[0]).flags.writeable
  assert kept(7, face, geometries[1]).flags.writeable  # A flipped copy.
  worker = pickle.loads(pickle.dumps(kept))  # A worker starts empty.
  worker(7, face, geometries[0])
  assert len(reads) == 16
  reads.clear()
  computes = crops_within(15 * 32 * 32 * 3 - 1)  # Not all fit: none kept.
  assert not computes.keeps
  for g in geometries:
    np.testing.assert_array_equal(computes(7, face, g),
                                  augment.apply(image, g, 32, 37))
  assert len(reads) == 30


def test_stage1_keeps_its_crops_without_changing_the_stream(data, monkeypatch):
  train, _ = folds.split_indices(data, 0)
  n = 2 * (len(train) // 8) + 1  # Two epochs and a batch: crops drawn again.

  def stream(**fields):
    # One read thread: two could both compute a crop not yet kept. A
    # stream's thread keeps prefetching after _take, so the kept stream runs
    # first: what the second adds to `computed` only adds.
    config = _config(read_threads=1, **fields)
    config.augment.rotations = (0.0,)  # One geometry per face (flips aside).
    config.augment.stage1_five_crops = False
    return _take(input_pipeline.stage1_dataset(
        data, train, config, seed=2, shard_index=0, shard_count=1), n)

  computed = []
  apply = augment.apply
  monkeypatch.setattr(augment, 'apply',
                      lambda *a, **k: computed.append(1) or apply(*a, **k))
  kept = stream()
  assert len(computed) <= len(data) < 3 * 8 * n
  computed.clear()
  _assert_batches_equal(kept, stream(keep_crops_mib=0))
  assert len(computed) >= 3 * 8 * n  # Its own and those prefetched.


def test_eval_batches_cover_every_index_once(data):
  config = _config()
  _, test = folds.split_indices(data, 0)
  batches = list(input_pipeline.eval_batches(data, test, config, batch_size=16))
  assert len(batches) == -(-len(test) // 16)
  index = np.concatenate([b['index'] for b in batches])
  mask = np.concatenate([b['mask'] for b in batches])
  assert sorted(index[mask]) == sorted(test)
  assert (index[~mask] == -1).all() and mask.sum() == len(test)
  first = batches[0]
  assert first['image'].shape == (16, 32, 32, 3)
  r = int(first['index'][3])
  np.testing.assert_array_equal(
      first['image'][3], augment.centre_crop(data[r]['image'], 32, 37))
  assert first['expression'][3] == data.expressions[r]
  assert first['identity'][3] == data.identities[r]
  five = next(input_pipeline.eval_batches(data, test, config, batch_size=4,
                                          five_crop=True))
  assert five['image'].shape == (4, 5, 32, 32, 3)
  np.testing.assert_array_equal(five['image'][:, 0], first['image'][:4])


def test_identity_map_unknown_identities():
  class Fake:
    identities = np.array([3, -1, 0, 3, -1], np.int32)
  mapping = pairs.identity_map(Fake(), [0, 1, 2, 3, 4])
  assert mapping == {0: 0, 3: 1, -2: 2, -5: 3}


def test_pair_table_fallbacks():
  # Identity 0 alone has expression 2; identity 1 has a single image; 4 and 5
  # are unknown identities (SFEW): each is its own person.
  identities = np.array([0, 0, 0, 1, -1, -1])
  expressions = np.array([2, 2, 1, 1, 1, 1])
  table = pairs.PairTable(identities, expressions, np.arange(6))
  rng = np.random.default_rng(0)
  for _ in range(20):
    t, tg = table.sample(0, rng)
    # b = a; x_tg another image of a; x_t its image of another expression.
    assert tg == 1 and t == 2
    t, tg = table.sample(2, rng)
    assert tg in (3, 4, 5) and t == tg  # One-image identities: x_t = x_tg.
    assert pairs.check_triplet(table, 2, t, tg) == []
    t, tg = table.sample(4, rng)
    assert tg != 4 and pairs.check_triplet(table, 4, t, tg) == []
  # Unknown identities only: x_t = x_tg = x_s, and that obeys the rule.
  alone = pairs.PairTable(np.array([-1, -1]), np.array([0, 1]), [0, 1])
  assert alone.sample(0, rng) == (0, 0)
  assert pairs.check_triplet(alone, 0, 0, 0) == []


# A hand-built table (neutral = class 0). Identity 0: records 0, 1 (e=1),
# 2 (e=2), 3 (neutral). Identity 1: 4 (e=1), 5 (e=2), 6, 7 (neutral).
# Identity 2: 8, 9 (e=1 only).
_IDS = np.array([0, 0, 0, 0, 1, 1, 1, 1, 2, 2])
_EXPRS = np.array([1, 1, 2, 0, 1, 2, 0, 0, 1, 1])


def _draws(table, source, n=200, seed=0):
  rng = np.random.default_rng(seed)
  out = [table.sample(source, rng) for _ in range(n)]
  for t, tg in out:
    assert pairs.check_triplet(table, source, t, tg) == []
  return out


def test_pair_rule_prefers_neutral_then_another_expression():
  table = pairs.PairTable(_IDS, _EXPRS, np.arange(10), neutral=0)
  # x_s = 0 (identity 0, e=1): b = 1 -> x_t neutral (6, 7); b = 2 has only
  # e=1 -> x_t its other image, never x_tg.
  got = collections.Counter(_draws(table, 0))
  assert set(got) == {(6, 4), (7, 4), (9, 8), (8, 9)}
  # x_s = 5 (identity 1, e=2): b = 0, x_tg = 2, x_t its neutral image 3.
  assert set(_draws(table, 5)) == {(3, 2)}
  # x_s = 3 (neutral): b = 1, x_tg neutral; x_t shows another expression.
  assert {t for t, _ in _draws(table, 3)} == {4, 5}
  # Without a neutral class: any image of b with another expression than e.
  plain = pairs.PairTable(_IDS, _EXPRS, np.arange(10))
  assert {t for t, _ in _draws(plain, 5)} == {0, 1, 3}


def test_check_triplet_reports_pair_rule_violations():
  table = pairs.PairTable(_IDS, _EXPRS, np.arange(10), neutral=0)
  assert pairs.check_triplet(table, 0, 6, 4) == []
  assert pairs.check_triplet(table, 0, 5, 4) == [
      'x_t is not a neutral image of b although b has one and x_s is not '
      'neutral']
  assert pairs.check_triplet(table, 3, 7, 6) == [
      'x_t has the expression of x_s although b has an image with another '
      'expression']
  assert pairs.check_triplet(table, 0, 8, 8) == [
      'x_t and x_tg are the same image although b has others']
  assert pairs.check_triplet(table, 0, 2, 1) == [
      'target identity equals source identity although another identity has '
      'the expression', 'x_t is not a neutral image of b although b has one '
      'and x_s is not neutral']
  assert 'x_tg does not have the expression of x_s' in pairs.check_triplet(
      table, 0, 6, 5)


def test_stage1_only_records_are_targets_only():
  # CK+-like: no neutral class; records 10, 11 are identity 2's stage-1-only
  # (neutral) frames, 12 belongs to identity 3, who has no source record.
  ids = np.concatenate([_IDS, [2, 2, 3]])
  exprs = np.concatenate([_EXPRS, [-1, -1, -1]])
  table = pairs.PairTable(ids, exprs, np.arange(10), targets_only=[10, 11, 12])
  got = _draws(table, 4)  # Identity 1, e=1: b = 0 or 2.
  assert {t for t, tg in got if tg in (8, 9)} == {10, 11}  # b = 2.
  assert {t for t, tg in got if tg in (0, 1)} == {2, 3}  # b = 0: no frames.
  assert 12 not in {t for s in range(10) for t, _ in _draws(table, s, 50)}
  assert table.expression(10) == -1
  assert pairs.check_triplet(table, 4, 9, 8) == [
      'x_t is not a neutral image of b although b has one and x_s is not '
      'neutral']
  assert pairs.check_triplet(table, 10, 11, 9)[0] == (
      'x_s is a stage-1-only record')
  assert 'x_tg is a stage-1-only record' in pairs.check_triplet(
      table, 4, 10, 11)
  with pytest.raises(ValueError, match='both a source and target-only'):
    pairs.PairTable(ids, exprs, np.arange(11), targets_only=[10])


class _Flagged:
  """A dataset with stage-1-only records 10-12 (as above) and record 13, a
  stage-1-only frame of identity 0 outside the given training indices."""
  identities = np.concatenate([_IDS, [2, 2, 3, 0]])
  expressions = np.concatenate([_EXPRS, [-1, -1, -1, -1]])
  stage1_only = np.arange(14) >= 10
  manifest = {'expression_classes': ['anger', 'happy', 'sad']}


def test_stage1_records_finds_the_same_peoples_targets():
  # Training indices of identities 0 and 2 (one of 2's frames among them).
  train = np.array([0, 1, 2, 3, 8, 9, 10])
  sources, targets = pairs.stage1_records(_Flagged, train)
  np.testing.assert_array_equal(sources, [0, 1, 2, 3, 8, 9])
  np.testing.assert_array_equal(targets, [10, 11, 13])  # Not 12 (identity 3).
  table = pairs.PairTable.from_dataset(_Flagged, train)
  assert table.neutral is None and set(table.targets_only) == {10, 11, 13}
  assert {t for t, _ in _draws(table, 8)} == {13}  # b = 0: its neutral frame.
  with pytest.raises(ValueError, match='all stage-1-only'):
    pairs.PairTable.from_dataset(_Flagged, [10, 11])


def test_augment_geometry():
  rng = np.random.default_rng(0)
  image = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
  # A (near) zero rotation through the affine path equals plain slicing.
  for place in range(5):
    plain = augment.apply(image, augment.Geometry(place), 32, 40)
    rotated = augment.apply(image, augment.Geometry(place, 1e-6), 32, 40)
    # Pillow's fixed-point bilinear may round a centre sample off by one.
    assert np.abs(plain.astype(int) - rotated).max() <= 1
  np.testing.assert_array_equal(
      augment.apply(image, augment.Geometry(0), 32, 40), image[4:36, 4:36])
  np.testing.assert_array_equal(
      augment.apply(image, augment.Geometry(4), 32, 40), image[8:, 8:])
  np.testing.assert_array_equal(
      augment.apply(image, augment.Geometry(2, 0, True), 32, 40),
      image[:32, 8:, :][:, ::-1])
  quarter = augment.apply(image, augment.Geometry(0, 90.0), 40, 40)
  assert (np.array_equal(quarter, np.rot90(image, 1))
          or np.array_equal(quarter, np.rot90(image, -1)))
  small = augment.apply(image, augment.Geometry(1, 6.0), 32, 37)
  assert small.shape == (32, 32, 3) and small.dtype == np.uint8
  with pytest.raises(ValueError, match='smaller'):
    augment.margin_side(96, 0.9)


def test_normalize():
  x = np.array([0, 127.5, 255])
  np.testing.assert_allclose(input_pipeline.normalize(np.uint8([0, 255])),
                             [-1.0, 1.0])
  assert float(input_pipeline.normalize(x)[1]) == 0.0
