"""A run's prepared sets: where they are, opening them (decoded faces kept in
memory when they fit), generating the synthetic set on first use, and the
protocol's record selection (DESIGN §5): stage-1-only records and low
intensities left out, folds checked subject-independent.
"""

import os

from absl import logging
import ml_collections
import numpy as np

from relgan_jax import cli
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import records
from relgan_jax.data import synthetic_set

# The data_prep command that makes each dataset's prepared records.
_PREP_HINTS = {
    'synthetic': 'python -m data_prep.synthetic --out_dir={dir}',
    'ckplus': 'python -m data_prep.prepare --dataset=ckplus --raw_dir=RAW '
              '--out_dir={dir}',
    'oulu_casia': 'python -m data_prep.prepare --dataset=oulu_casia '
                  '--raw_dir=RAW --out_dir={dir}',
    'bu3dfe': 'python -m data_prep.prepare --dataset=bu3dfe --raw_dir=RAW '
              '--out_dir={dir}',
    'bu4dfe': 'python -m data_prep.prepare --dataset=bu4dfe --raw_dir=RAW '
              '--out_dir={dir}',
    'sfew': 'python -m data_prep.prepare --dataset=sfew --raw_dir=RAW '
            '--out_dir={dir}',
}


def data_dir_for(config: ml_collections.ConfigDict, workdir: str) -> str:
  """config.data.dir, or workdir/data when it is empty."""
  return config.data.dir or os.path.join(workdir, 'data')


def synthetic_settings(config: ml_collections.ConfigDict, *,
                       pretrain: bool = False) -> dict:
  """What synthetic_set.generate makes of the config: the evaluation set's
  people (data.synthetic_identities, from person 0) or, with `pretrain`, the
  pre-training people who follow them (data.synthetic_pretrain_identities),
  data.synthetic_seed and the stored side (the crop's margin around
  model.image_size)."""
  data = config.data
  people = ((data.synthetic_pretrain_identities, data.synthetic_identities)
            if pretrain else (data.synthetic_identities, 0))
  return dict(num_identities=people[0], first_identity=people[1],
              seed=data.synthetic_seed,
              size=round(config.model.image_size * config.augment.margin_ratio))


def generate_synthetic(config: ml_collections.ConfigDict, data_dir: str, *,
                       pretrain: bool = False) -> None:
  """synthetic_set.generate with `synthetic_settings` and the config's
  folds."""
  try:
    synthetic_set.generate(data_dir, num_folds=config.protocol.num_folds,
                           **synthetic_settings(config, pretrain=pretrain))
  except synthetic_set.ArgumentError as e:  # E.g. more folds than people.
    raise cli.ConfigError(
        f'cannot generate the synthetic set in {data_dir} with this config '
        f'(data.synthetic_identities, protocol.num_folds, ...): {e}') from e


def check_generated_people(config: ml_collections.ConfigDict, data_dir: str,
                           manifest: dict, *, pretrain: bool = False) -> None:
  """Refuses a generated synthetic set other than the one
  `generate_synthetic` would make of the config (`synthetic_settings`),
  which a run would otherwise use in silence. Only for configs that generate
  the set themselves (data.generate_if_missing); a set made by hand is the
  user's to choose.

  Raises:
    cli.ConfigError: naming each difference and what to do.
  """
  prep = manifest.get('prep') or {}
  if (config.data.name != 'synthetic' or not config.data.generate_if_missing
      or prep.get('generator') != 'data_prep.synthetic'):
    return
  why = {
      'num_identities': ('data.synthetic_pretrain_identities' if pretrain
                         else 'data.synthetic_identities'),
      'first_identity': 'the evaluated people come first, then the '
                        'pre-training ones',
      'seed': 'data.synthetic_seed',
      'size': f'model.image_size {config.model.image_size} * '
              f'augment.margin_ratio {config.augment.margin_ratio}'}
  wanted = synthetic_settings(config, pretrain=pretrain)
  wrong = [f'{key} {prep.get(key, 0)}, the config asks for {value} '
           f'({why[key]})' for key, value in wanted.items()
           if prep.get(key, 0) != value]
  if wrong:
    raise cli.ConfigError(
        f'{data_dir} holds a synthetic set generated with other settings: '
        f'{"; ".join(wrong)}. Set those fields to match it, point '
        '--config.data.dir at a new folder (the set is generated there) or '
        'remove that one.')


def _check_generation_target(data_dir: str) -> None:
  """Refuses to generate into a file, or into a folder that holds files of
  its own (a mistyped config.data.dir); an interrupted generation's
  leftovers (shards, no manifest) may be replaced."""
  if not os.path.exists(data_dir):
    return
  if not os.path.isdir(data_dir):
    raise cli.ConfigError(
        f'config.data.dir {data_dir} is a file, not a prepared-data folder.')
  foreign = sorted(n for n in os.listdir(data_dir)
                   if not (n.startswith('records-') or n == records.REPORT
                           or n.endswith('.tmp')))
  if foreign:
    raise cli.ConfigError(
        f'config.data.dir {data_dir} holds no prepared data (no '
        f'{records.MANIFEST}) but other files (e.g. {foreign[0]}); is it '
        'mistyped? The synthetic set is generated only into a new or empty '
        'folder.')


def load_dataset(config: ml_collections.ConfigDict, workdir: str, *,
                 check_folds: bool = True) -> records.PreparedDataset:
  """Opens the prepared data, generating the synthetic set if asked to.

  Raises:
    FileNotFoundError: no manifest.json and nothing may generate it; the
      message names the expected path and the data_prep command.
    cli.ConfigError: the manifest's fold count differs from
      config.protocol.num_folds (only with check_folds: stage 1 alone,
      --mode=train_gan, does not use folds).
  """
  data_dir = data_dir_for(config, workdir)
  manifest = os.path.join(data_dir, 'manifest.json')
  if not os.path.exists(manifest):
    if config.data.generate_if_missing and config.data.name == 'synthetic':
      _check_generation_target(data_dir)
      logging.warning('No prepared data in %s (config.data.dir=%r): '
                      'generating the synthetic face set there '
                      '(config.data.generate_if_missing).',
                      os.path.abspath(data_dir), config.data.dir)
      generate_synthetic(config, data_dir)
    else:
      hint = _PREP_HINTS.get(config.data.name,
                             'python -m data_prep.prepare ... --out_dir={dir}')
      raise FileNotFoundError(
          f'No prepared data: expected {manifest} (config.data.dir='
          f'{config.data.dir!r}, config.data.name={config.data.name!r}). '
          f'Make it with: {hint.format(dir=data_dir)}')
  dataset = open_prepared(data_dir, config)
  check_generated_people(config, data_dir, dataset.manifest)
  num_folds = int(dataset.manifest['num_folds'])
  if check_folds and num_folds != config.protocol.num_folds:
    raise cli.ConfigError(
        f'{manifest} has num_folds={num_folds} but config.protocol.num_folds='
        f'{config.protocol.num_folds}; set --config.protocol.num_folds='
        f'{num_folds} or re-prepare the data.')
  return dataset


def wants_synthetic_pretraining(config: ml_collections.ConfigDict) -> bool:
  """The synthetic set asks for a generated pre-training population
  (data.synthetic_pretrain_identities > 0). The other way to have a
  pre-training set is protocol.pretrain_data_dir."""
  return (config.data.name == 'synthetic'
          and config.data.synthetic_pretrain_identities > 0)


def pretrain_data_dir(config: ml_collections.ConfigDict,
                      workdir: str) -> str:
  """The stage-1 pre-training set's folder, or '' when there is none.

  config.protocol.pretrain_data_dir, else (synthetic data with
  data.synthetic_pretrain_identities > 0) <data dir>_pretrain.
  """
  if config.protocol.pretrain_data_dir:
    return config.protocol.pretrain_data_dir
  if wants_synthetic_pretraining(config):  # The synthetic one.
    return data_dir_for(config, workdir).rstrip('/\\') + '_pretrain'
  return ''


def open_prepared(data_dir: str, config) -> records.PreparedDataset:
  """The prepared set in `data_dir`, its decoded faces kept in memory when
  they fit in config.data.keep_decoded_mib."""
  dataset = records.PreparedDataset(data_dir)
  mib = config.data.keep_decoded_mib
  kept = dataset.keep_decoded(int(mib) * 2**20)
  logging.info('%s: %d faces, %.0f MiB decoded: %s.', data_dir, len(dataset),
               dataset.decoded_bytes() / 2**20,
               'kept in memory once read' if kept else
               f'read from the shards each time (data.keep_decoded_mib={mib})')
  return dataset


def select_records(dataset, indices: np.ndarray,
                   config: ml_collections.ConfigDict) -> np.ndarray:
  """`indices` without stage-1-only records and without the records below
  config.data.min_intensity: the protocol's train / test records.

  Stage-1-only records (x_t only, e.g. CK+'s neutral first frames) are in no
  class, test set or stage-2 set; stage 1 finds the training people's own
  ones in the dataset itself (`pairs.stage1_records`). Records with intensity
  0 (neutral faces) or without an intensity (< 0) are always kept.
  """
  indices = folds_lib.without_stage1_only(dataset, indices)
  min_intensity = int(config.data.min_intensity)
  values = getattr(dataset, 'intensities', None)
  if min_intensity <= 0 or values is None:
    return indices
  values = np.asarray(values)[indices]
  return indices[(values <= 0) | (values >= min_intensity)]


def check_subject_independent(dataset, train_idx: np.ndarray,
                              test_idx: np.ndarray, fold: int) -> None:
  """Raises if a test subject (or identity) also appears in training."""
  subjects = np.asarray(dataset.subjects)
  shared = set(subjects[train_idx]) & set(subjects[test_idx])
  ids = np.asarray(dataset.identities)
  shared_ids = (set(ids[train_idx]) & set(ids[test_idx])) - {-1}
  if shared or shared_ids or len(test_idx) == 0:
    raise ValueError(
        f'fold {fold} is not subject-independent or has no test records: '
        f'shared subjects {sorted(shared)[:5]}, shared identities '
        f'{sorted(shared_ids)[:5]}, {len(test_idx)} test records.')
