"""A run's files: where every trained part lives and how it is written and read.

The folder layout of a protocol workdir (relgan_jax.evaluation.protocol writes it):

  workdir/pretrain/                 stage 1 pre-trained once (configs with a
                                    pre-training set), used frozen by the folds
  workdir/fold_k/stage1/            stage-1 run of fold k (checkpoints/<step>/)
  workdir/fold_k/encoder/           Ges alone, handed to stage 2 (export_encoder)
  workdir/fold_k/classifier/        the stage-2 MLP (save_classifier)
  workdir/fold_k/result.json        fold k's figures (written last: the fold
                                    is finished)
  workdir/report.json, report.md    all folds (relgan_jax.evaluation.report)

Paper names: Ges is the expression encoder (face -> f(e), the identity-free
expression code); the MLP classifies expressions from the standardised f(e).

`export_encoder` writes Ges alone to a folder with `ges/` (orbax PyTree) and
`encoder.json` (the module fields); `load_encoder` rebuilds `models.Ges` and
its params from it. `save_classifier` writes the MLP's params and the feature
standardiser (`mlp/`) beside `classifier.json`: the MLP fields, the class
names and the preprocessing the training faces had (the manifest's prep
settings and stored size, config.model.image_size, config.augment.margin_ratio),
so that `relgan_jax.data.faces` can turn a photo into exactly the kind of input the
model was trained on. `find_fold_dir` finds the parts in a workdir for
relgan_jax.evaluation.inference.
"""

import dataclasses
import json
import os
import re
from typing import Any, Optional, Sequence, Tuple

from absl import logging
from etils import epath
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing

PRETRAIN_DIR = 'pretrain'
STAGE1_DIR = 'stage1'
ENCODER_DIR = 'encoder'
CLASSIFIER_DIR = 'classifier'
RESULT_FILE = 'result.json'
REPORT_JSON = 'report.json'  # Written by report.write_report.
ENCODER_JSON = 'encoder.json'
ENCODER_TREE = 'ges'
CLASSIFIER_JSON = 'classifier.json'
CLASSIFIER_TREE = 'mlp'
FORMAT_VERSION = 1
_FOLD_DIR = re.compile(r'^fold_(\d+)$')
_DEFAULT_MARGIN_RATIO = 112 / 96


def fold_dir(workdir: str, fold: int) -> str:
  return os.path.join(workdir, f'fold_{fold}')


def pretrain_dir(workdir: str) -> str:
  """Where the protocol's own stage-1 pre-training run lives."""
  return os.path.join(workdir, PRETRAIN_DIR)


def save_fold_result(workdir: str, fold: int, result: dict[str, Any]) -> None:
  """Writes fold k's result.json atomically: the fold is finished."""
  path = os.path.join(fold_dir(workdir, fold), RESULT_FILE)
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    json.dump(result, f, indent=2)
    f.write('\n')
  os.replace(tmp, path)


def load_fold_result(workdir: str, fold: int) -> Optional[dict[str, Any]]:
  """The finished fold's result, or None if the fold has not finished."""
  path = os.path.join(fold_dir(workdir, fold), RESULT_FILE)
  if not os.path.exists(path):
    return None
  with open(path) as f:
    return json.load(f)


# --- The exported expression encoder ------------------------------------------


def export_encoder(g_params: Any, config: ml_collections.ConfigDict, path: str,
                   *, g_batch_stats: Any = None) -> str:
  """Writes Ges alone (params, and batch stats under BatchNorm) to `path`.

  Args:
    g_params: G's params {'Ges': ..., 'Get': ..., 'Gde': ...}.
    config: the run's config (config.model gives the module fields).
    path: output folder (created; an existing export there is replaced).
    g_batch_stats: G's batch_stats collection when config.model.norm == 'batch'.

  Returns:
    `path`.
  """
  if 'Ges' not in g_params:
    raise ValueError('export_encoder: g_params has no "Ges" entry, got keys '
                     f'{sorted(g_params)}.')
  m = config.model
  if m.norm == 'batch' and not g_batch_stats:
    raise ValueError('export_encoder: config.model.norm is "batch" but no '
                     'g_batch_stats were given.')
  tree = {'params': g_params['Ges']}
  if m.norm == 'batch':
    tree['batch_stats'] = g_batch_stats['Ges']
  path = checkpointing.absolute_path(path)
  checkpointer = ocp.PyTreeCheckpointer()
  checkpointer.save(os.path.join(path, ENCODER_TREE),
                    args=ocp.args.PyTreeSave(tree), force=True)
  fields = dict(image_size=m.image_size, width=m.width, norm=m.norm,
                dtype=m.dtype, f_e_dim=m.f_e_dim)
  if jax.process_index() == 0:
    tmp = epath.Path(path) / (ENCODER_JSON + '.tmp')
    tmp.write_text(json.dumps({'module': 'Ges', 'fields': fields}, indent=2))
    tmp.replace(epath.Path(path) / ENCODER_JSON)
  return path


def load_encoder(path: str, *, return_variables: bool = False
                 ) -> Tuple[models.Ges, Any]:
  """Rebuilds the exported Ges.

  Args:
    path: a folder written by `export_encoder`.
    return_variables: return the whole variables dict ({'params', and
      'batch_stats' under BatchNorm}) instead of the params; needed when the
      encoder uses BatchNorm.

  Returns:
    (ges_module, ges_params), where `ges_module.apply({'params': ges_params},
    x)` gives f_e [B, f_e_dim] for x in [-1, 1]; or (ges_module, variables)
    with return_variables.
  """
  json_path = epath.Path(path) / ENCODER_JSON
  if not json_path.exists():
    raise FileNotFoundError(
        f'No exported encoder at {path}: {json_path} is missing (write it with '
        'run_files.export_encoder).')
  fields = json.loads(json_path.read_text())['fields']
  ges = models.Ges(image_size=fields['image_size'], width=fields['width'],
                   norm=fields['norm'], dtype=jnp.dtype(fields['dtype']),
                   f_e_dim=fields['f_e_dim'], ops=models.layer_ops('auto'))
  if fields['norm'] == 'batch' and not return_variables:
    raise ValueError(f'The encoder at {path} uses BatchNorm: call '
                     'load_encoder(path, return_variables=True) to get its '
                     'batch statistics too.')
  x = jax.ShapeDtypeStruct((1, ges.image_size, ges.image_size, 3), jnp.float32)
  abstract = jax.eval_shape(ges.init, jax.random.key(0), x)
  restore_args = ocp.checkpoint_utils.construct_restore_args(abstract)
  variables = ocp.PyTreeCheckpointer().restore(
      os.path.join(checkpointing.absolute_path(path), ENCODER_TREE),
      args=ocp.args.PyTreeRestore(item=abstract, restore_args=restore_args))
  if return_variables:
    return ges, variables
  return ges, variables['params']



# --- The stage-2 classifier on disk -------------------------------------------


def _stored_side(stored_size: Any) -> Optional[int]:
  """The manifest's stored_size (an int or [H, W]) as one side, or None."""
  if stored_size is None:
    return None
  if isinstance(stored_size, (list, tuple)):
    if len(set(stored_size)) != 1:
      raise ValueError(f'stored faces must be square, got {stored_size}.')
    return int(stored_size[0])
  return int(stored_size)


def _preprocessing(image_size, margin_ratio, five_crop,
                   manifest: Optional[dict[str, Any]]) -> dict[str, Any]:
  manifest = manifest or {}
  return {
      'image_size': int(image_size),
      'margin_ratio': float(margin_ratio),
      'five_crop': bool(five_crop),
      'dataset': manifest.get('name'),
      'stored_size': _stored_side(manifest.get('stored_size')),
      'prep': manifest.get('prep') or {},
  }


def preprocessing_from(config: ml_collections.ConfigDict,
                       manifest: Optional[dict[str, Any]]) -> dict[str, Any]:
  """What turns a photo into a model input, from the run config + manifest."""
  return _preprocessing(config.model.image_size, config.augment.margin_ratio,
                        config.augment.five_crop_eval, manifest)


def save_classifier(path: str, classifier: Any, *,
                    config: ml_collections.ConfigDict,
                    manifest: dict[str, Any]) -> str:
  """Writes the trained stage-2 MLP so that `load_classifier` rebuilds it.

  Args:
    path: output folder (created; an existing classifier there is replaced),
      by convention workdir/fold_k/classifier.
    classifier: a `stage2.Classifier` whose module is a `models.MLP`: it has
      .module, .params, .mean and .std (the feature standardiser).
    config: the run's config (model, augment fields; see the module doc).
    manifest: the prepared dataset's manifest (class names, prep settings).

  Returns:
    `path`.
  """
  module = classifier.module
  if not isinstance(module, models.MLP):
    raise TypeError('save_classifier: classifier.module must be a models.MLP, '
                    f'got {type(module).__name__}.')
  class_names = list(manifest['expression_classes'])
  if module.num_expressions != len(class_names):
    raise ValueError(
        f'save_classifier: the MLP has {module.num_expressions} outputs but '
        f'the manifest names {len(class_names)} classes {class_names}.')
  mean = np.asarray(classifier.mean, np.float32)
  std = np.asarray(classifier.std, np.float32)
  tree = {'params': jax.device_get(classifier.params),
          'mean': mean, 'std': std}
  path = os.path.abspath(path)
  ocp.PyTreeCheckpointer().save(os.path.join(path, CLASSIFIER_TREE),
                                args=ocp.args.PyTreeSave(tree), force=True)
  info = {
      'format_version': FORMAT_VERSION,
      'module': 'MLP',
      'fields': {'num_expressions': int(module.num_expressions),
                 'hidden': [int(h) for h in module.hidden],
                 'dropout_rate': float(module.dropout_rate)},
      'f_e_dim': int(mean.shape[-1]),
      'class_names': class_names,
      'preprocessing': preprocessing_from(config, manifest),
  }
  if jax.process_index() == 0:
    tmp = os.path.join(path, CLASSIFIER_JSON + '.tmp')
    with open(tmp, 'w') as f:
      json.dump(info, f, indent=2)
    os.replace(tmp, os.path.join(path, CLASSIFIER_JSON))
  return path


@dataclasses.dataclass
class SavedClassifier:
  """The stage-2 MLP read back: logits = module(((f_e - mean) / std))."""
  module: models.MLP
  params: Any
  mean: np.ndarray
  std: np.ndarray
  class_names: list[str]
  preprocessing: dict[str, Any]


def read_json(path: str, what: str) -> dict[str, Any]:
  if not os.path.exists(path):
    raise FileNotFoundError(f'No {what}: {path} is missing.')
  with open(path) as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as e:
      raise ValueError(f'{path} is not valid JSON: {e}') from e


def load_classifier(path: str) -> SavedClassifier:
  """Rebuilds the MLP written by `save_classifier` from folder `path`."""
  info = read_json(os.path.join(path, CLASSIFIER_JSON),
                    'saved stage-2 classifier (run_files.save_classifier)')
  try:
    fields, dim = info['fields'], int(info['f_e_dim'])
    module = models.MLP(num_expressions=int(fields['num_expressions']),
                        hidden=tuple(fields['hidden']),
                        dropout_rate=float(fields['dropout_rate']))
    class_names, prep = list(info['class_names']), info['preprocessing']
  except (KeyError, TypeError) as e:
    raise ValueError(f'{path}/{CLASSIFIER_JSON} lacks field {e}.') from e
  f = jax.ShapeDtypeStruct((1, dim), jnp.float32)
  abstract = {
      'params': jax.eval_shape(module.init, jax.random.key(0), f)['params'],
      'mean': jax.ShapeDtypeStruct((dim,), jnp.float32),
      'std': jax.ShapeDtypeStruct((dim,), jnp.float32)}
  restore_args = ocp.checkpoint_utils.construct_restore_args(abstract)
  tree = ocp.PyTreeCheckpointer().restore(
      os.path.join(os.path.abspath(path), CLASSIFIER_TREE),
      args=ocp.args.PyTreeRestore(item=abstract, restore_args=restore_args))
  tree = jax.device_get(tree)
  return SavedClassifier(module, tree['params'], np.asarray(tree['mean']),
                         np.asarray(tree['std']), class_names, prep)


# --- Finding the trained parts in a workdir -----------------------------------


def has_part(folder: str, part: str) -> bool:
  if part == CLASSIFIER_DIR:
    return os.path.exists(os.path.join(folder, part, CLASSIFIER_JSON))
  if part == ENCODER_DIR:
    return os.path.exists(os.path.join(folder, part,
                                       ENCODER_JSON))
  if part == STAGE1_DIR:
    return os.path.isdir(checkpointing.checkpoint_dir(
        os.path.join(folder, part)))
  raise ValueError(part)


def fold_dirs(workdir: str) -> list[tuple[int, str]]:
  """(k, workdir/fold_k) of every fold folder, in fold order."""
  if not os.path.isdir(workdir):
    raise FileNotFoundError(f'workdir {workdir} does not exist.')
  found = [(int(m.group(1)), os.path.join(workdir, name))
           for name in os.listdir(workdir)
           if (m := _FOLD_DIR.match(name)) and
           os.path.isdir(os.path.join(workdir, name))]
  return sorted(found)


def find_fold_dir(workdir: str, parts: Sequence[str],
                  fold: Optional[int] = None) -> str:
  """The folder holding every one of `parts` ('encoder', 'classifier',
  'stage1'): `workdir` itself when it is a fold folder, workdir/fold_<fold>
  when `fold` is given, else the lowest-numbered fold that has them all.

  Raises:
    FileNotFoundError: naming what is missing where.
  """
  missing = lambda d: [p for p in parts if not has_part(d, p)]  # noqa: E731
  if fold is None and not missing(workdir):
    return workdir
  if fold is not None:
    folder = fold_dir(workdir, fold)
    if not os.path.isdir(folder):
      raise FileNotFoundError(f'{folder} does not exist (--fold={fold}).')
    if missing(folder):
      raise FileNotFoundError(
          f'{folder} has no {", ".join(missing(folder))}: has fold {fold} '
          'finished (relgan_jax.evaluation.protocol writes them)?')
    return folder
  folds = fold_dirs(workdir)
  for _, folder in folds:
    if not missing(folder):
      return folder
  where = (f'none of its folds {[k for k, _ in folds]} has them all' if folds
           else 'it has no fold_k folders and is not a fold folder')
  raise FileNotFoundError(
      f'No trained {" + ".join(parts)} in {workdir}: {where}. Train with '
      '`python -m relgan_jax.main --config=... --workdir=...`.')


def run_preprocessing(run_dir: str, image_size: int) -> dict[str, Any]:
  """Preprocessing of a run without a saved classifier: from report.json's
  config and the prepared data's manifest when found, else defaults."""
  config: dict[str, Any] = {}
  report_path = os.path.join(run_dir, 'report.json')
  if os.path.exists(report_path):
    config = read_json(report_path, 'report').get('config') or {}
  augment_config = config.get('augment', {})
  data_dir = (config.get('data', {}).get('dir') or
              os.path.join(run_dir, 'data'))
  manifest_path = os.path.join(data_dir, 'manifest.json')
  manifest = (read_json(manifest_path, 'manifest')
              if os.path.exists(manifest_path) else {})
  if not config:
    logging.warning('No classifier.json and no report.json in %s: assuming '
                    'config.augment.margin_ratio = 112/96.', run_dir)
  if not manifest:
    logging.warning('Prepared data not found (%s): assuming the stored size '
                    'round(image_size * margin_ratio) and the default eye '
                    'template.', manifest_path)
  return _preprocessing(
      image_size, augment_config.get('margin_ratio', _DEFAULT_MARGIN_RATIO),
      augment_config.get('five_crop_eval', False), manifest)


def shared_stage1(workdir: str) -> Optional[tuple[str, str]]:
  """(workdir/pretrain, workdir) when the protocol pre-trained stage 1 there
  (workdir may also be one of its fold folders), else None."""
  for run_dir in (workdir, os.path.dirname(os.path.abspath(workdir))):
    pretrain = pretrain_dir(run_dir)
    if os.path.isdir(checkpointing.checkpoint_dir(pretrain)):
      return pretrain, run_dir
  return None


def holds_trained_parts(workdir: str) -> bool:
  """The workdir holds something a run trained: stage-1 checkpoints, the
  pre-training run, a fold folder or the report (a local path or a URL)."""
  root = epath.Path(workdir)
  if not root.is_dir():
    return False
  if any(epath.Path(p).exists() for p in (
      checkpointing.checkpoint_dir(workdir), pretrain_dir(workdir),
      os.path.join(workdir, REPORT_JSON))):
    return True
  return any(_FOLD_DIR.match(p.name) for p in root.iterdir())
