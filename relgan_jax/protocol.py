"""The evaluation protocol (DESIGN §5, §9): folds -> stage 1 -> Ges export ->
stage 2 + baseline -> report.

Paper names: `Ges` (expression encoder), `Get` (identity encoder), `Gde`
(decoder), G = Gde(Ges(x_s), Get(x_t)) reenacts the source face `x_s`'s
expression on the target face `x_t`'s person; `f(e) = Ges(x)`.

`run(config, workdir)` is what `python -m relgan_jax.main --config=...
--workdir=...` does by default. For every fold k of the prepared data
(config.protocol.folds, or all of them):

1. stage 1 on fold k's training subjects only, in workdir/fold_k/stage1
   (`train.train_gan`, resumable; optionally starting from
   config.protocol.pretrained_checkpoint, or frozen at it when
   config.protocol.freeze_pretrained);
2. export Ges alone (workdir/fold_k/encoder) and load it back, frozen;
   the trained stage-2 MLP is saved in workdir/fold_k/classifier;
3. stage 2 (MLP on f(e)), the CNN baseline and the identity-leakage probe
   (`stage2.run_fold`), plus a reenactment grid of the fold's unseen test
   subjects (workdir/fold_k/reenactment_grid.png);
4. write workdir/fold_k/result.json last: a fold with a result file is
   finished and is skipped when the run is restarted.

Then `report.write_report` writes report.json, report.md and
confusion_matrix.png into workdir, and the first fold's reenactment grid is
copied to workdir/reenactment_grid.png.

Fixed train/val splits (SFEW) are one fold: fold 0 is Val, fold -1 records are
always trained on. When config.data.dir is empty the data lives in
workdir/data.
"""

import os
import shutil
import time
from typing import Any, Optional

from absl import logging
import jax
from jax.experimental import multihost_utils
import ml_collections
import numpy as np

from relgan_jax import checkpointing
from relgan_jax import config_checks
from relgan_jax import disentanglement
from relgan_jax import folds as folds_lib
from relgan_jax import gan_steps
from relgan_jax import records
from relgan_jax import reenactment
from relgan_jax import run_files
from relgan_jax import report
from relgan_jax import stage2
from relgan_jax import synthetic_set
from relgan_jax import train

GRID_FILE = 'reenactment_grid.png'
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


# --- Data --------------------------------------------------------------------


def data_dir_for(config: ml_collections.ConfigDict, workdir: str) -> str:
  """config.data.dir, or workdir/data when it is empty."""
  return config.data.dir or os.path.join(workdir, 'data')


def _generate_synthetic(config: ml_collections.ConfigDict, data_dir: str,
                        **people) -> None:
  """synthetic_set.generate with the run's seed, folds and stored size
  (round(image_size * margin_ratio)); `people`: num_identities[,
  first_identity]."""
  try:
    synthetic_set.generate(
        data_dir, **people, num_folds=config.protocol.num_folds,
        seed=config.seed,
        size=round(config.model.image_size * config.augment.margin_ratio))
  except synthetic_set.ArgumentError as e:  # E.g. more folds than people.
    raise config_checks.ConfigError(
        f'cannot generate the synthetic set in {data_dir} with this config '
        f'(data.synthetic_identities, protocol.num_folds, ...): {e}') from e


def _check_generation_target(data_dir: str) -> None:
  """Refuses to generate into a file, or into a folder that holds files of
  its own (a mistyped config.data.dir); an interrupted generation's
  leftovers (shards, no manifest) may be replaced."""
  if not os.path.exists(data_dir):
    return
  if not os.path.isdir(data_dir):
    raise config_checks.ConfigError(
        f'config.data.dir {data_dir} is a file, not a prepared-data folder.')
  foreign = sorted(n for n in os.listdir(data_dir)
                   if not (n.startswith('records-') or n == records.REPORT
                           or n.endswith('.tmp')))
  if foreign:
    raise config_checks.ConfigError(
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
    config_checks.ConfigError: the manifest's fold count differs from
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
      _generate_synthetic(config, data_dir,
                          num_identities=config.data.synthetic_identities)
    else:
      hint = _PREP_HINTS.get(config.data.name,
                             'python -m data_prep.prepare ... --out_dir={dir}')
      raise FileNotFoundError(
          f'No prepared data: expected {manifest} (config.data.dir='
          f'{config.data.dir!r}, config.data.name={config.data.name!r}). '
          f'Make it with: {hint.format(dir=data_dir)}')
  dataset = _open(data_dir, config)
  num_folds = int(dataset.manifest['num_folds'])
  if check_folds and num_folds != config.protocol.num_folds:
    raise config_checks.ConfigError(
        f'{manifest} has num_folds={num_folds} but config.protocol.num_folds='
        f'{config.protocol.num_folds}; set --config.protocol.num_folds='
        f'{num_folds} or re-prepare the data.')
  return dataset


def pretrain_data_dir(config: ml_collections.ConfigDict,
                      workdir: str) -> str:
  """The stage-1 pre-training set's folder, or '' when there is none.

  config.protocol.pretrain_data_dir, else (synthetic data with
  data.synthetic_pretrain_identities > 0) <data dir>_pretrain.
  """
  if config.protocol.pretrain_data_dir:
    return config.protocol.pretrain_data_dir
  if config_checks.wants_synthetic_pretraining(config):  # The synthetic one.
    return data_dir_for(config, workdir).rstrip('/\\') + '_pretrain'
  return ''


def load_pretrain_dataset(config: ml_collections.ConfigDict,
                          data_dir: str) -> records.PreparedDataset:
  """Opens the pre-training set in `data_dir`, generating the synthetic one if
  asked to: people synthetic_identities .. + synthetic_pretrain_identities - 1
  of the same seed, so nobody of the evaluation set is among them."""
  if not os.path.exists(os.path.join(data_dir, records.MANIFEST)):
    if (config.data.name == 'synthetic' and config.data.generate_if_missing
        and not config.protocol.pretrain_data_dir):
      logging.info('Generating the synthetic pre-training set in %s', data_dir)
      if _is_primary():
        _generate_synthetic(
            config, data_dir,
            num_identities=config.data.synthetic_pretrain_identities,
            first_identity=config.data.synthetic_identities)
      _sync('pre-training set generated')
    else:
      raise FileNotFoundError(
          f'No prepared pre-training data: expected {data_dir}/'
          f'{records.MANIFEST} (config.protocol.pretrain_data_dir).')
  return _open(data_dir, config)


def _open(data_dir: str, config) -> records.PreparedDataset:
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


def pretrain(config: ml_collections.ConfigDict, workdir: str,
             dataset: records.PreparedDataset) -> Optional[str]:
  """Stage 1 on the pre-training set, once, in run_files.pretrain_dir(workdir)
  (resumable).

  Returns that folder (the pretrained checkpoint of every fold), or None
  when the config has no pre-training set. Refuses a pre-training set that
  shares a subject id with the evaluation data.
  """
  data_dir = pretrain_data_dir(config, workdir)
  if not data_dir:
    return None
  pre = load_pretrain_dataset(config, data_dir)
  shared = set(map(str, pre.subjects)) & set(map(str, dataset.subjects))
  if shared:
    raise config_checks.ConfigError(
        f'The pre-training set {data_dir} holds {len(shared)} subjects of the '
        f'evaluation data (e.g. {sorted(shared)[:3]}); stage 1 would see test '
        'subjects.')
  out = run_files.pretrain_dir(workdir)
  indices = select_records(pre, np.arange(len(pre)), config)
  logging.info('Stage-1 pre-training on %d records of %s in %s.',
               len(indices), data_dir, out)
  train.train_gan(config, out, pre, indices)
  return out


def folds_to_run(config: ml_collections.ConfigDict,
                 dataset: records.PreparedDataset) -> list[int]:
  """config.protocol.folds, or every fold of the manifest."""
  num_folds = int(dataset.manifest['num_folds'])
  wanted = list(config.protocol.folds) or list(range(num_folds))
  for k in wanted:
    if not 0 <= int(k) < num_folds:
      raise config_checks.ConfigError(
          f'config.protocol.folds has fold {k}, outside '
          f'0..{num_folds - 1} of {dataset.manifest.get("name")}.')
  return [int(k) for k in wanted]


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


# --- Stage 1 -----------------------------------------------------------------


def stage1(config: ml_collections.ConfigDict, fold_dir: str, dataset,
           train_idx: np.ndarray) -> dict[str, Any]:
  """Stage 1 for one fold; returns G's variables."""
  pretrained = config.protocol.pretrained_checkpoint or None
  if pretrained and config.protocol.freeze_pretrained:
    logging.info('Stage 1: frozen at the pre-trained %s', pretrained)
    state, _ = checkpointing.load_state_tree(pretrained)
    return gan_steps.g_variables(state)
  state = train.train_gan(config, os.path.join(fold_dir, run_files.STAGE1_DIR), dataset,
                          train_idx, init_checkpoint=pretrained)
  return jax.device_get(gan_steps.g_variables(state))


# --- Folds -------------------------------------------------------------------


def _is_primary() -> bool:
  """Only process 0 writes the per-fold and report files (multi-host runs)."""
  return jax.process_index() == 0


def _sync(name: str) -> None:
  """Waits for every process (no-op in a single-process run)."""
  if jax.process_count() > 1:
    multihost_utils.sync_global_devices(name)


def run_fold(config: ml_collections.ConfigDict, workdir: str, dataset,
             fold: int) -> dict[str, Any]:
  """Stage 1, export, stage 2 and baseline for one fold; writes its result."""
  start = time.time()
  fold_dir = run_files.fold_dir(workdir, fold)
  os.makedirs(fold_dir, exist_ok=True)
  train_idx, test_idx = folds_lib.split_indices(dataset, fold)
  train_idx = select_records(dataset, train_idx, config)
  test_idx = select_records(dataset, test_idx, config)
  check_subject_independent(dataset, train_idx, test_idx, fold)
  class_names = dataset.manifest['expression_classes']
  logging.info('Fold %d: %d training records, %d test records.', fold,
               len(train_idx), len(test_idx))

  g_variables = stage1(config, fold_dir, dataset, train_idx)
  stage1_seconds = time.time() - start

  # Hand-off: Ges alone, exported and restored without the rest of G or D.
  encoder_dir = os.path.join(fold_dir, run_files.ENCODER_DIR)
  classifier_dir = os.path.join(fold_dir, run_files.CLASSIFIER_DIR)
  for stale in (encoder_dir, classifier_dir):  # Left by an interrupted run.
    if _is_primary() and os.path.exists(stale):
      shutil.rmtree(stale)
  _sync(f'fold {fold}: stale exports removed')
  run_files.export_encoder(g_variables['params'], config, encoder_dir,
                           g_batch_stats=g_variables.get('batch_stats'))
  ges_module, ges_variables = run_files.load_encoder(
      encoder_dir, return_variables=True)

  handoff = {}  # Features and the trained baseline, for the measures below.
  result = stage2.run_fold(config, dataset, train_idx, test_idx, ges_module,
                           ges_variables, num_classes=len(class_names),
                           seed=config.seed + fold,
                           classifier_dir=classifier_dir, handoff=handoff)
  if handoff:  # Retrieval, leakage, untrained Ges, expression transfer.
    result.update(disentanglement.run_fold(
        config, dataset, train_idx, test_idx, handoff,
        g_variables=g_variables, num_classes=len(class_names),
        seed=config.seed + fold))
  if _is_primary():
    reenactment.draw_reenactment_grid(
        config, g_variables, dataset, test_idx,
        os.path.join(fold_dir, GRID_FILE),
        title=f'fold {fold}, unseen test subjects. Rows: source x_s '
              '(expression); columns: target x_t (identity)')
  subjects = np.asarray(dataset.subjects)
  result.update({
      'fold': fold,
      'num_train': int(len(train_idx)),
      'num_test': int(len(test_idx)),
      'test_subjects': sorted(set(str(s) for s in subjects[test_idx])),
      'stage1_seconds': stage1_seconds,
      'seconds': time.time() - start,
  })
  if _is_primary():
    run_files.save_fold_result(workdir, fold, result)
  _sync(f'fold {fold}: result written')
  logging.info('Fold %d: REL-GAN %.2f%%, baseline %s, leakage %s, '
               'retrieval %s, reenactment %s', fold,
               result['relgan']['accuracy'],
               result['baseline'] and f'{result["baseline"]["accuracy"]:.2f}%',
               result.get('identity_leakage'), result.get('retrieval'),
               result.get('reenactment'))
  return result


def run(config: ml_collections.ConfigDict, workdir: str,
        dataset: Optional[records.PreparedDataset] = None) -> dict[str, Any]:
  """Runs the whole protocol; returns the report dictionary.

  Finished folds (their result.json exists) are loaded, not redone. The
  evaluation data is `dataset` when given (main has loaded it), else
  load_dataset(config, workdir).
  """
  start = time.time()
  os.makedirs(workdir, exist_ok=True)
  if dataset is None:
    dataset = load_dataset(config, workdir)
  class_names = dataset.manifest['expression_classes']
  # A generic image folder is named by its folder, not by the reader.
  name = dataset.manifest['name']
  if name == 'image_folder':
    name = os.path.basename(data_dir_for(config, workdir).rstrip('/\\'))
  results, resumed_seconds = [], 0.0
  finished = {k: run_files.load_fold_result(workdir, k)
              for k in folds_to_run(config, dataset)}
  if pretrain_data_dir(config, workdir):
    if None in finished.values():
      pretrain(config, workdir, dataset)
    config = config.copy_and_resolve_references()
    config.protocol.pretrained_checkpoint = run_files.pretrain_dir(workdir)
  for fold, result in finished.items():
    if result is not None:
      logging.info('Fold %d already finished; skipping it.', fold)
      resumed_seconds += float(result.get('seconds', 0.0))
    else:
      result = run_fold(config, workdir, dataset, fold)
    results.append(result)
  seconds = time.time() - start + resumed_seconds
  if not _is_primary():
    return report.summarize(results, config,
                            dataset_name=name,
                            class_names=class_names, seconds=seconds)
  rep = report.write_report(
      workdir, results, config, dataset_name=name,
      class_names=class_names, seconds=seconds)
  grid = os.path.join(run_files.fold_dir(workdir, results[0]['fold']),
                      GRID_FILE)
  if os.path.exists(grid):
    shutil.copyfile(grid, os.path.join(workdir, GRID_FILE))
  logging.info('Report written to %s', os.path.join(workdir, 'report.md'))
  return rep
