"""grain input pipelines: reenactment triplets for stage 1, plain batches for eval.

Stage 1 of REL-GAN (DESIGN.md §4) needs triplets: a source face x_s (identity a,
expression e), a target face x_t of identity b != a, and x_tg, a real image of b
with expression e (see `pairs.py`: x_t shows another expression than e, neutral
preferred). The sources are the given records less any stage-1-only ones;
the stage-1-only records (x_t only) of the same people are found in the
dataset (`pairs.stage1_records`). The pipeline is a grain `MapDataset`
(random access into `records.PreparedDataset`) over an endless index:

  element k -> epoch, position = divmod(k, sources per process)
            -> source record = permutation(seed, epoch)[position * P + p]
            -> (x_t, x_tg) by the pair rule, augmentation (`augment.py`;
               each drawn crop kept in memory when they fit: `KeptCrops`)
            -> batch -> to_iter_dataset -> mp_prefetch workers (optional).

All randomness of an element comes from a generator seeded by (seed, epoch,
source position), so batches depend only on the seed and the element index:
the iterator's get_state()/set_state() (saved with the training checkpoint)
resume at the same data position, with or without worker processes. Process p
of P reads positions p, p + P, ... of each epoch's global permutation: each JAX
process feeds its own share of the global batch.

Labels in stage-1 batches: y_e_s / y_e_t are the expressions of x_s / x_t and
y_i_s / y_i_t their identities remapped to 0..Ni-1 (`pairs.identity_map`);
y_e_t is -1 when x_t is a stage-1-only record (no protocol class).
Images stay uint8 until `normalize` runs on device.
"""

import math
from typing import Any, Iterator, Sequence

from absl import logging
import grain
import numpy as np

from relgan_jax.data import augment
from relgan_jax.data import pairs

identity_map = pairs.identity_map


def normalize(x):
  """uint8 images -> float in [-1, 1] (on device, inside jitted steps)."""
  # Imported here so that grain worker processes need not import JAX.
  import jax.numpy as jnp  # pylint: disable=import-outside-toplevel
  return jnp.asarray(x, jnp.float32) / 127.5 - 1.0


def _read_options(config) -> grain.ReadOptions:
  return grain.ReadOptions(
      num_threads=int(config.data.read_threads),
      prefetch_buffer_size=max(1, int(config.data.prefetch_buffer_size)))


class _Triplets:
  """Element k of the endless stage-1 stream (picklable for grain workers)."""

  def __init__(self, dataset, record_indices: np.ndarray, config, seed: int,
               shard_index: int, shard_count: int, with_indices: bool):
    self.dataset = dataset
    self.table = pairs.PairTable.from_dataset(dataset, record_indices)
    self.record_indices = self.table.sources  # x_s: no stage-1-only record.
    self.id_label = pairs.identity_map(dataset, record_indices)
    self.seed = int(seed)
    self.shard_index, self.shard_count = shard_index, shard_count
    self.per_shard = len(self.record_indices) // shard_count
    self.size = int(config.model.image_size)
    self.side = augment.margin_side(self.size, config.augment.margin_ratio)
    # Stage 1's own switch for the crop places (configs/default.py); stage 2
    # augments through features.py and baseline.py.
    self.five_crops = (bool(config.augment.five_crops)
                       and bool(config.augment.stage1_five_crops))
    self.rotations = tuple(float(r) for r in config.augment.rotations)
    self.flip = bool(config.augment.flip)
    self.crops = augment.KeptCrops(
        self.size, self.side, num_faces=self.table.num_records,
        five_crops=self.five_crops, rotations=self.rotations,
        max_bytes=int(config.data.keep_crops_mib) * 2**20)
    self.with_indices = with_indices
    self._perm: tuple[int, np.ndarray] | None = None

  def __getstate__(self):
    state = self.__dict__.copy()
    state['_perm'] = None
    return state

  def permutation(self, epoch: int) -> np.ndarray:
    cached = self._perm  # One read: threads may replace it concurrently.
    if cached is None or cached[0] != epoch:
      perm = np.random.default_rng([self.seed, epoch]).permutation(
          len(self.record_indices))
      cached = (epoch, perm)
      self._perm = cached
    return cached[1]

  def sources(self, k: int) -> tuple[int, int, int]:
    """(epoch, global position, source record) of element k."""
    epoch, j = divmod(int(k), self.per_shard)
    position = int(self.permutation(epoch)[j * self.shard_count + self.shard_index])
    return epoch, position, int(self.record_indices[position])

  def _geometry(self, rng):
    return augment.draw_geometry(rng, five_crops=self.five_crops,
                                 rotations=self.rotations, flip=self.flip)

  def __call__(self, k: int, _: Any) -> dict[str, np.ndarray]:
    epoch, position, s = self.sources(k)
    rng = np.random.default_rng([self.seed, epoch, position, 7])
    t, tg = self.table.sample(s, rng)
    geo_s, geo_t = self._geometry(rng), self._geometry(rng)
    images = {name: self.crops(i, lambda i=i: self.dataset[i]['image'], geo)
              for name, i, geo in (('x_s', s, geo_s), ('x_t', t, geo_t),
                                   ('x_tg', tg, geo_t))}
    labels = {
        'y_e_s': self.table.expression(s),
        'y_i_s': self.id_label[self.table.identity_key(s)],
        'y_e_t': self.table.expression(t),
        'y_i_t': self.id_label[self.table.identity_key(t)],
    }
    out = images | {k_: np.int32(v) for k_, v in labels.items()}
    if self.with_indices:
      out |= {'i_s': np.int32(s), 'i_t': np.int32(t), 'i_tg': np.int32(tg)}
    return out


def _default_shards(shard_index, shard_count):
  if shard_index is None or shard_count is None:
    import jax  # pylint: disable=import-outside-toplevel
    shard_index = jax.process_index() if shard_index is None else shard_index
    shard_count = jax.process_count() if shard_count is None else shard_count
  if not 0 <= shard_index < shard_count:
    raise ValueError(f'shard_index {shard_index} outside 0..{shard_count - 1}.')
  return int(shard_index), int(shard_count)


def stage1_dataset(dataset, record_indices: Sequence[int], config, *,
                   seed: int, shard_index: int | None = None,
                   shard_count: int | None = None,
                   with_indices: bool = False) -> grain.DatasetIterator:
  """Endless, per-epoch reshuffled stage-1 triplet batches for this process.

  Args:
    dataset: a `records.PreparedDataset`.
    record_indices: the records to train on (e.g. a fold's training set); any
      stage-1-only ones among them are x_t only, and the same people's
      stage-1-only records elsewhere in `dataset` join them as x_t candidates.
    config: the run config (model.image_size, train.batch_size, augment.*,
      data.num_workers, data.prefetch_buffer_size, data.read_threads).
    seed: data seed; the stream is a pure function of it.
    shard_index: this process's index (default jax.process_index()).
    shard_count: number of processes (default jax.process_count()).
    with_indices: also yield the record indices 'i_s', 'i_t', 'i_tg' (tests).

  Returns:
    A grain DatasetIterator (get_state/set_state) of dicts: x_s, x_t, x_tg
    uint8 [B, S, S, 3]; y_e_s, y_i_s, y_e_t, y_i_t int32 [B], with
    B = config.train.batch_size // shard_count.
  """
  shard_index, shard_count = _default_shards(shard_index, shard_count)
  record_indices = np.asarray(record_indices, np.int64)
  global_batch = int(config.train.batch_size)
  if global_batch % shard_count:
    raise ValueError(f'train.batch_size {global_batch} is not divisible by the '
                     f'{shard_count} processes.')
  triplets = _Triplets(dataset, record_indices, config, seed, shard_index,
                       shard_count, with_indices)
  if triplets.per_shard < 1:
    raise ValueError(f'{len(triplets.record_indices)} training records (x_s) '
                     f'for {shard_count} processes.')
  crops = triplets.crops
  logging.info('Stage 1 augmented crops (at most %.0f MiB): %s.',
               crops.kept_bytes_bound / 2**20,
               'kept in memory once drawn' if crops.keeps else
               'computed at each draw (data.keep_crops_mib='
               f'{config.data.keep_crops_mib})')
  ds = grain.MapDataset.range(triplets.per_shard).repeat()
  ds = ds.map_with_index(triplets)
  ds = ds.batch(global_batch // shard_count, drop_remainder=True)
  it = ds.to_iter_dataset(_read_options(config))
  if config.data.num_workers > 0:
    it = it.mp_prefetch(grain.MultiprocessingOptions(
        num_workers=int(config.data.num_workers),
        per_worker_buffer_size=max(1, int(config.data.prefetch_buffer_size))))
  return iter(it)


class _EvalElement:
  """Element k of the padded evaluation stream (picklable)."""

  def __init__(self, dataset, record_indices: np.ndarray, config,
               five_crop: bool):
    self.dataset = dataset
    self.record_indices = record_indices
    self.size = int(config.model.image_size)
    self.side = augment.margin_side(self.size, config.augment.margin_ratio)
    self.five_crop = five_crop

  def __call__(self, k: int) -> dict[str, np.ndarray]:
    k = int(k)
    if k >= len(self.record_indices):  # Padding: masked out.
      shape = ((5,) if self.five_crop else ()) + (self.size, self.size, 3)
      return dict(image=np.zeros(shape, np.uint8), expression=np.int32(0),
                  identity=np.int32(-1), index=np.int32(-1), mask=np.bool_(False))
    i = int(self.record_indices[k])
    rec = self.dataset[i]
    crop = augment.five_crops if self.five_crop else augment.centre_crop
    return dict(image=crop(rec['image'], self.size, self.side),
                expression=np.int32(rec['expression']),
                identity=np.int32(rec['identity']), index=np.int32(i),
                mask=np.bool_(True))


def eval_batches(dataset, record_indices: Sequence[int], config, *,
                 batch_size: int, five_crop: bool = False
                 ) -> Iterator[dict[str, np.ndarray]]:
  """One pass over the records in order, in fixed-size batches.

  Args:
    dataset: a `records.PreparedDataset`.
    record_indices: records to visit (order kept).
    config: the run config (model.image_size, augment.margin_ratio, data.*).
    batch_size: batch size; the last batch is padded.
    five_crop: yield the five crops ([B, 5, S, S, 3]) instead of the centre.

  Returns:
    An iterator of dicts: image uint8 [B, S, S, 3] (or [B, 5, S, S, 3]),
    expression, identity (original labels, -1 unknown), index (record index,
    -1 for padding) int32 [B], mask bool [B] (False for padding).
  """
  record_indices = np.asarray(record_indices, np.int64)
  if batch_size <= 0:
    raise ValueError(f'batch_size must be positive, got {batch_size}.')
  padded = math.ceil(len(record_indices) / batch_size) * batch_size
  ds = grain.MapDataset.range(padded).map(
      _EvalElement(dataset, record_indices, config, five_crop))
  ds = ds.batch(batch_size)
  return iter(ds.to_iter_dataset(_read_options(config)))


def centre_crops(dataset, record_indices: Sequence[int], config,
                 batch_size: int = 64) -> np.ndarray:
  """The records' evaluation crops (uint8 [N, S, S, 3]), in order."""
  batches = eval_batches(dataset, record_indices, config,
                         batch_size=batch_size)
  return np.concatenate([np.asarray(b['image'])[np.asarray(b['mask'], bool)]
                         for b in batches])
