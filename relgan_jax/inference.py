"""Using a trained REL-GAN: its models, loaded from a workdir.

Paper names: `Ges` is the expression encoder (face x -> f_e = f(e), the
identity-free expression code), `Get` the identity encoder (x -> f_i), `Gde`
the decoder; G = Gde(Ges(x_s), Get(x_t)) draws the person of the target face
x_t with the expression of the source face x_s. The stage-2 MLP classifies
expressions from the standardised f_e.

Where things are in a protocol workdir (`relgan_jax.protocol`):

  workdir/fold_k/stage1/checkpoints/<step>/  stage-1 state: G and D  (reenact)
  workdir/fold_k/encoder/                    Ges alone               (predict)
  workdir/fold_k/classifier/                 the MLP (this module)   (predict)

`save_classifier` writes the MLP's params and the feature standardiser (orbax
PyTree, `mlp/`) beside `classifier.json`: the MLP fields, the class names and
the preprocessing the training faces had (the manifest's prep settings and
stored size, config.model.image_size, config.augment.margin_ratio), so that
`relgan_jax.faces` can turn a photo into exactly the kind of input the model
was trained on.

`load_expression_model` (Ges + MLP) and `load_reenactor` (G) accept a protocol
workdir (the first fold that has what they need, or --fold), one fold folder,
or, for G, a stage-1 workdir (`python -m relgan_jax.main --mode=train_gan`).
"""

import dataclasses
import functools
import json
import os
import re
from typing import Any, Optional, Sequence

from absl import logging
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from relgan_jax import checkpointing
from relgan_jax import faces as faces_lib
from relgan_jax import gan_steps
from relgan_jax import input_pipeline
from relgan_jax import models
from relgan_jax import reenactment

CLASSIFIER_DIR = 'classifier'
CLASSIFIER_JSON = 'classifier.json'
CLASSIFIER_TREE = 'mlp'
ENCODER_DIR = 'encoder'
STAGE1_DIR = 'stage1'
FORMAT_VERSION = 1
_FOLD_DIR = re.compile(r'^fold_(\d+)$')
_DEFAULT_MARGIN_RATIO = 112 / 96


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


def preprocessing_from(config: ml_collections.ConfigDict,
                       manifest: Optional[dict[str, Any]]) -> dict[str, Any]:
  """What turns a photo into a model input, from the run config + manifest."""
  manifest = manifest or {}
  return {
      'image_size': int(config.model.image_size),
      'margin_ratio': float(config.augment.margin_ratio),
      'five_crop': bool(config.augment.five_crop_eval),
      'dataset': manifest.get('name'),
      'stored_size': _stored_side(manifest.get('stored_size')),
      'prep': manifest.get('prep') or {},
  }


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


def _read_json(path: str, what: str) -> dict[str, Any]:
  if not os.path.exists(path):
    raise FileNotFoundError(f'No {what}: {path} is missing.')
  with open(path) as f:
    try:
      return json.load(f)
    except json.JSONDecodeError as e:
      raise ValueError(f'{path} is not valid JSON: {e}') from e


def load_classifier(path: str) -> SavedClassifier:
  """Rebuilds the MLP written by `save_classifier` from folder `path`."""
  info = _read_json(os.path.join(path, CLASSIFIER_JSON),
                    'saved stage-2 classifier (inference.save_classifier)')
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


def _has(folder: str, part: str) -> bool:
  if part == CLASSIFIER_DIR:
    return os.path.exists(os.path.join(folder, part, CLASSIFIER_JSON))
  if part == ENCODER_DIR:
    return os.path.exists(os.path.join(folder, part,
                                       checkpointing.ENCODER_JSON))
  if part == STAGE1_DIR:
    return os.path.isdir(os.path.join(folder, part, 'checkpoints'))
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
  missing = lambda d: [p for p in parts if not _has(d, p)]  # noqa: E731
  if fold is None and not missing(workdir):
    return workdir
  if fold is not None:
    folder = os.path.join(workdir, f'fold_{fold}')
    if not os.path.isdir(folder):
      raise FileNotFoundError(f'{folder} does not exist (--fold={fold}).')
    if missing(folder):
      raise FileNotFoundError(
          f'{folder} has no {", ".join(missing(folder))}: has fold {fold} '
          'finished (relgan_jax.protocol writes them)?')
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


def _run_preprocessing(run_dir: str, image_size: int) -> dict[str, Any]:
  """Preprocessing of a run without a saved classifier: from report.json's
  config and the prepared data's manifest when found, else defaults."""
  config: dict[str, Any] = {}
  report_path = os.path.join(run_dir, 'report.json')
  if os.path.exists(report_path):
    config = _read_json(report_path, 'report').get('config') or {}
  augment_config = config.get('augment', {})
  data_dir = (config.get('data', {}).get('dir') or
              os.path.join(run_dir, 'data'))
  manifest_path = os.path.join(data_dir, 'manifest.json')
  manifest = (_read_json(manifest_path, 'manifest')
              if os.path.exists(manifest_path) else {})
  if not config:
    logging.warning('No classifier.json and no report.json in %s: assuming '
                    'config.augment.margin_ratio = 112/96.', run_dir)
  if not manifest:
    logging.warning('Prepared data not found (%s): assuming the stored size '
                    'round(image_size * margin_ratio) and the default eye '
                    'template.', manifest_path)
  return {
      'image_size': image_size,
      'margin_ratio': float(augment_config.get('margin_ratio',
                                               _DEFAULT_MARGIN_RATIO)),
      'five_crop': bool(augment_config.get('five_crop_eval', False)),
      'dataset': manifest.get('name'),
      'stored_size': _stored_side(manifest.get('stored_size')),
      'prep': manifest.get('prep') or {},
  }


def _padded(x: np.ndarray, multiple: int = 8) -> np.ndarray:
  """Pads the batch to a multiple of `multiple` (fewer distinct compiles)."""
  n = len(x)
  extra = -n % multiple
  if extra:
    x = np.concatenate([x, np.zeros((extra,) + x.shape[1:], x.dtype)])
  return x


# --- Ges + MLP: expression probabilities -------------------------------------


@dataclasses.dataclass
class ExpressionModel:
  """The frozen Ges and the stage-2 MLP of one trained fold."""
  ges: models.Ges
  ges_variables: Any
  classifier: SavedClassifier
  folder: str

  @property
  def class_names(self) -> list[str]:
    return self.classifier.class_names

  @property
  def preprocessing(self) -> dict[str, Any]:
    return self.classifier.preprocessing

  def features(self, crops: np.ndarray) -> np.ndarray:
    """f_e [N, D] of model-input crops uint8 [N, S, S, 3] (or five crops
    [N, 5, S, S, 3], whose f_e are averaged as in evaluation)."""
    crops = np.asarray(crops, np.uint8)
    n = len(crops)
    five = crops.ndim == 5
    flat = crops.reshape((-1,) + crops.shape[-3:])
    f = np.asarray(_encode(self.ges, self.ges_variables, _padded(flat)))
    f = f[:len(flat)]
    return f.reshape(n, 5, -1).mean(axis=1) if five else f

  def probabilities(self, crops: np.ndarray) -> np.ndarray:
    """Expression probabilities [N, Ne] (rows sum to 1) of model inputs."""
    f = self.features(crops)
    c = self.classifier
    z = (f - c.mean) / c.std
    logits = np.asarray(_classify(c.module, c.params, _padded(z)))[:len(z)]
    logits = logits.astype(np.float64)
    p = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return p / p.sum(axis=-1, keepdims=True)

  def predict_faces(self, faces: Sequence[np.ndarray]) -> np.ndarray:
    """Probabilities [N, Ne] of stored-size aligned faces."""
    if not len(faces):
      return np.zeros((0, len(self.class_names)))
    return self.probabilities(faces_lib.model_inputs(np.stack(faces),
                                                     self.preprocessing))


@functools.partial(jax.jit, static_argnums=0)
def _encode(ges: models.Ges, variables, images):
  return ges.apply(variables, input_pipeline.normalize(images), train=False)


@functools.partial(jax.jit, static_argnums=0)
def _classify(mlp: models.MLP, params, z):
  return mlp.apply({'params': params}, z, train=False)


def load_expression_model(workdir: str,
                          fold: Optional[int] = None) -> ExpressionModel:
  """Ges (workdir/fold_k/encoder) + the MLP (workdir/fold_k/classifier)."""
  folder = find_fold_dir(workdir, (ENCODER_DIR, CLASSIFIER_DIR), fold)
  ges, variables = checkpointing.load_encoder(
      os.path.join(folder, ENCODER_DIR), return_variables=True)
  classifier = load_classifier(os.path.join(folder, CLASSIFIER_DIR))
  if classifier.mean.shape[-1] != ges.f_e_dim:
    raise ValueError(f'{folder}: the classifier reads '
                     f'{classifier.mean.shape[-1]}-d features but Ges gives '
                     f'{ges.f_e_dim}-d f_e.')
  prep = classifier.preprocessing
  if int(prep['image_size']) != ges.image_size:
    raise ValueError(f'{folder}: classifier.json says image_size '
                     f'{prep["image_size"]}, the encoder {ges.image_size}.')
  return ExpressionModel(ges, variables, classifier, folder)


# --- G: reenactment ----------------------------------------------------------


@dataclasses.dataclass
class Reenactor:
  """The trained G = Gde(Ges(x_s), Get(x_t)) of one run or fold."""
  generator: models.Generator
  variables: Any
  preprocessing: dict[str, Any]
  folder: str

  def reenact(self, sources: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Every source's expression on every target's identity.

    Args:
      sources: model-input crops x_s, uint8 [R, S, S, 3].
      targets: model-input crops x_t, uint8 [C, S, S, 3].

    Returns:
      uint8 [R, C, S, S, 3]; [r, c] shows target c with source r's expression.
    """
    x_bar = reenactment.all_pairs_uint8(self.generator, self.variables,
                                        np.asarray(sources, np.uint8),
                                        np.asarray(targets, np.uint8))
    return np.asarray(x_bar)


def _shared_stage1(workdir: str) -> Optional[tuple[str, str]]:
  """(workdir/pretrain, workdir) when the protocol pre-trained stage 1 there
  (workdir may also be one of its fold folders), else None."""
  for run_dir in (workdir, os.path.dirname(os.path.abspath(workdir))):
    pretrain = os.path.join(run_dir, 'pretrain')
    if os.path.isdir(os.path.join(pretrain, 'checkpoints')):
      return pretrain, run_dir
  return None


def load_reenactor(workdir: str, fold: Optional[int] = None) -> Reenactor:
  """G from a stage-1 checkpoint: a stage-1 workdir (workdir/checkpoints),
  one fold folder, or a protocol workdir (fold_k/stage1, else the shared
  pre-training run workdir/pretrain that its folds used frozen)."""
  prep_folder = None  # Where classifier.json may say the preprocessing.
  if fold is None and os.path.isdir(os.path.join(workdir, 'checkpoints')):
    folder, ckpt, run_dir = workdir, workdir, workdir
  else:  # A fold folder: its run is the folder above.
    try:
      folder = find_fold_dir(workdir, (STAGE1_DIR,), fold)
      ckpt = os.path.join(folder, STAGE1_DIR)
      run_dir = os.path.dirname(os.path.abspath(folder))
    except FileNotFoundError:
      # Folds that used a shared stage 1 frozen (the protocol's own
      # pre-training, e.g. configs/synthetic.py): G is in run/pretrain.
      shared = _shared_stage1(workdir)
      if shared is None or (fold is not None and not os.path.isdir(
          os.path.join(workdir, f'fold_{fold}'))):
        raise
      ckpt, run_dir = shared
      folder = ckpt
      try:  # The preprocessing of a fold's classifier, where there is one.
        prep_folder = find_fold_dir(workdir, (CLASSIFIER_DIR,), fold)
      except FileNotFoundError:
        prep_folder = run_dir
      logging.info('G from the shared stage-1 run %s.', ckpt)
  state, meta = checkpointing.load_state_tree(ckpt)
  if 'model' not in meta:
    raise ValueError(f'{ckpt}: the checkpoint meta has no "model" fields.')
  config = ml_collections.ConfigDict({'model': meta['model']})
  generator = models.build_generator(config)
  variables = gan_steps.g_variables(state)
  prep_folder = prep_folder or folder
  if _has(prep_folder, CLASSIFIER_DIR):
    preprocessing = _read_json(
        os.path.join(prep_folder, CLASSIFIER_DIR, CLASSIFIER_JSON),
        'classifier')['preprocessing']
  else:
    preprocessing = _run_preprocessing(run_dir, generator.image_size)
  preprocessing = dict(preprocessing, image_size=generator.image_size)
  return Reenactor(generator, variables, preprocessing, folder)
