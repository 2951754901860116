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
   subjects (workdir/fold_k/reenactment_grid.png) and its change panel
   (reenactment_changes.png: what each cell draws of its row's expression);
4. write workdir/fold_k/result.json last: a fold with a result file is
   finished and is skipped when the run is restarted.

Then `report.write_report` writes report.json, report.md and
confusion_matrix.png into workdir, and the first fold's reenactment grid and
change panel are copied to workdir.

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
import ml_collections
import numpy as np

from relgan_jax import cli
from relgan_jax.data import folds as folds_lib
from relgan_jax.data import loading
from relgan_jax.data import records
from relgan_jax.evaluation import disentanglement
from relgan_jax.evaluation import report
from relgan_jax.evaluation import run_files
from relgan_jax.evaluation import stage2
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import distributed
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import reenactment
from relgan_jax.stage1 import train

GRID_FILE = 'reenactment_grid.png'
CHANGES_FILE = 'reenactment_changes.png'


# --- The pre-training set, the folds -----------------------------------------


def load_pretrain_dataset(config: ml_collections.ConfigDict,
                          data_dir: str) -> records.PreparedDataset:
  """Opens the pre-training set in `data_dir`, generating the synthetic one if
  asked to: people synthetic_identities .. + synthetic_pretrain_identities - 1
  of the same seed, so nobody of the evaluation set is among them."""
  if not os.path.exists(os.path.join(data_dir, records.MANIFEST)):
    if (config.data.name == 'synthetic' and config.data.generate_if_missing
        and not config.protocol.pretrain_data_dir):
      logging.info('Generating the synthetic pre-training set in %s', data_dir)
      if distributed.is_primary():
        loading.generate_synthetic(config, data_dir, pretrain=True)
      distributed.sync('pre-training set generated')
    else:
      raise FileNotFoundError(
          f'No prepared pre-training data: expected {data_dir}/'
          f'{records.MANIFEST} (config.protocol.pretrain_data_dir).')
  dataset = loading.open_prepared(data_dir, config)
  if not config.protocol.pretrain_data_dir:
    loading.check_generated_people(config, data_dir, dataset.manifest,
                                   pretrain=True)
  return dataset


def pretrain(config: ml_collections.ConfigDict, workdir: str,
             dataset: records.PreparedDataset) -> Optional[str]:
  """Stage 1 on the pre-training set, once, in run_files.pretrain_dir(workdir)
  (resumable).

  Returns that folder (the pretrained checkpoint of every fold), or None
  when the config has no pre-training set. Refuses a pre-training set that
  shares a subject id with the evaluation data.
  """
  data_dir = loading.pretrain_data_dir(config, workdir)
  if not data_dir:
    return None
  pre = load_pretrain_dataset(config, data_dir)
  shared = set(map(str, pre.subjects)) & set(map(str, dataset.subjects))
  if shared:
    raise cli.ConfigError(
        f'The pre-training set {data_dir} holds {len(shared)} subjects of the '
        f'evaluation data (e.g. {sorted(shared)[:3]}); stage 1 would see test '
        'subjects.')
  out = run_files.pretrain_dir(workdir)
  indices = loading.select_records(pre, np.arange(len(pre)), config)
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
      raise cli.ConfigError(
          f'config.protocol.folds has fold {k}, outside '
          f'0..{num_folds - 1} of {dataset.manifest.get("name")}.')
  return [int(k) for k in wanted]


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


def run_fold(config: ml_collections.ConfigDict, workdir: str, dataset,
             fold: int) -> dict[str, Any]:
  """Stage 1, export, stage 2 and baseline for one fold; writes its result."""
  start = time.time()
  fold_dir = run_files.fold_dir(workdir, fold)
  os.makedirs(fold_dir, exist_ok=True)
  train_idx, test_idx = folds_lib.split_indices(dataset, fold)
  train_idx = loading.select_records(dataset, train_idx, config)
  test_idx = loading.select_records(dataset, test_idx, config)
  loading.check_subject_independent(dataset, train_idx, test_idx, fold)
  class_names = dataset.manifest['expression_classes']
  logging.info('Fold %d: %d training records, %d test records.', fold,
               len(train_idx), len(test_idx))

  g_variables = stage1(config, fold_dir, dataset, train_idx)
  stage1_seconds = time.time() - start

  # Hand-off: Ges alone, exported and restored without the rest of G or D.
  encoder_dir = os.path.join(fold_dir, run_files.ENCODER_DIR)
  classifier_dir = os.path.join(fold_dir, run_files.CLASSIFIER_DIR)
  for stale in (encoder_dir, classifier_dir):  # Left by an interrupted run.
    if distributed.is_primary() and os.path.exists(stale):
      shutil.rmtree(stale)
  distributed.sync(f'fold {fold}: stale exports removed')
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
  if distributed.is_primary():
    reenactment.draw_reenactment_grid(
        config, g_variables, dataset, test_idx,
        os.path.join(fold_dir, GRID_FILE),
        title=f'fold {fold}, unseen test subjects. Rows: source x_s '
              '(expression); columns: target x_t (identity)',
        measures=result.get('reenactment'),
        changes_path=os.path.join(fold_dir, CHANGES_FILE))
  subjects = np.asarray(dataset.subjects)
  result.update({
      'fold': fold,
      'num_train': int(len(train_idx)),
      'num_test': int(len(test_idx)),
      'test_subjects': sorted(set(str(s) for s in subjects[test_idx])),
      'stage1_seconds': stage1_seconds,
      'seconds': time.time() - start,
  })
  if distributed.is_primary():
    run_files.save_fold_result(workdir, fold, result)
  distributed.sync(f'fold {fold}: result written')
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
  loading.load_dataset(config, workdir).
  """
  start = time.time()
  os.makedirs(workdir, exist_ok=True)
  if dataset is None:
    dataset = loading.load_dataset(config, workdir)
  class_names = dataset.manifest['expression_classes']
  # A generic image folder is named by its folder, not by the reader.
  name = dataset.manifest['name']
  if name == 'image_folder':
    name = os.path.basename(loading.data_dir_for(config, workdir).rstrip('/\\'))
  results, resumed_seconds = [], 0.0
  finished = {k: run_files.load_fold_result(workdir, k)
              for k in folds_to_run(config, dataset)}
  if loading.pretrain_data_dir(config, workdir):
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
  if not distributed.is_primary():
    return report.summarize(results, config,
                            dataset_name=name,
                            class_names=class_names, seconds=seconds)
  rep = report.write_report(
      workdir, results, config, dataset_name=name,
      class_names=class_names, seconds=seconds)
  for name in (GRID_FILE, CHANGES_FILE):
    drawn = os.path.join(run_files.fold_dir(workdir, results[0]['fold']), name)
    if os.path.exists(drawn):
      shutil.copyfile(drawn, os.path.join(workdir, name))
  logging.info('Report written to %s', os.path.join(workdir, 'report.md'))
  return rep
