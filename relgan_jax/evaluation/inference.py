"""Using a trained REL-GAN: its models, loaded from a workdir.

Paper names: `Ges` is the expression encoder (face x -> f_e = f(e), the
identity-free expression code), `Get` the identity encoder (x -> f_i), `Gde`
the decoder; G = Gde(Ges(x_s), Get(x_t)) draws the person of the target face
x_t with the expression of the source face x_s. The stage-2 MLP classifies
expressions from the standardised f_e.

The trained parts are found and read by relgan_jax/evaluation/run_files.py (the run
folder's layout, the saved Ges and MLP); this module wraps them for use.

`load_expression_model` (Ges + MLP) and `load_reenactor` (G) accept a protocol
workdir (the first fold that has what they need, or --fold), one fold folder,
or, for G, a stage-1 workdir (`python -m relgan_jax.main --mode=train_gan`).
"""

import dataclasses
import functools
import os
from typing import Any, Optional, Sequence

from absl import logging
import jax
import ml_collections
import numpy as np

from relgan_jax.data import faces as faces_lib
from relgan_jax.evaluation import features as features_lib
from relgan_jax.evaluation import run_files
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import reenactment



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
  classifier: run_files.SavedClassifier
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
    f = np.asarray(features_lib.encode_images(self.ges, self.ges_variables,
                                              _padded(flat)))
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
def _classify(mlp: models.MLP, params, z):
  return mlp.apply({'params': params}, z, train=False)


def load_expression_model(workdir: str,
                          fold: Optional[int] = None) -> ExpressionModel:
  """Ges (workdir/fold_k/encoder) + the MLP (workdir/fold_k/classifier)."""
  folder = run_files.find_fold_dir(
      workdir, (run_files.ENCODER_DIR, run_files.CLASSIFIER_DIR), fold)
  ges, variables = run_files.load_encoder(
      os.path.join(folder, run_files.ENCODER_DIR), return_variables=True)
  classifier = run_files.load_classifier(
      os.path.join(folder, run_files.CLASSIFIER_DIR))
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


def load_reenactor(workdir: str, fold: Optional[int] = None) -> Reenactor:
  """G from a stage-1 checkpoint: a stage-1 workdir (workdir/checkpoints),
  one fold folder, or a protocol workdir (fold_k/stage1, else the shared
  pre-training run workdir/pretrain that its folds used frozen)."""
  prep_folder = None  # Where classifier.json may say the preprocessing.
  if fold is None and os.path.isdir(checkpointing.checkpoint_dir(workdir)):
    folder, ckpt, run_dir = workdir, workdir, workdir
  else:  # A fold folder: its run is the folder above.
    try:
      folder = run_files.find_fold_dir(workdir, (run_files.STAGE1_DIR,), fold)
      ckpt = os.path.join(folder, run_files.STAGE1_DIR)
      run_dir = os.path.dirname(os.path.abspath(folder))
    except FileNotFoundError:
      # Folds that used a shared stage 1 frozen (the protocol's own
      # pre-training, e.g. configs/synthetic.py): G is in run/pretrain.
      shared = run_files.shared_stage1(workdir)
      if shared is None or (fold is not None and not os.path.isdir(
          run_files.fold_dir(workdir, fold))):
        raise
      ckpt, run_dir = shared
      folder = ckpt
      try:  # The preprocessing of a fold's classifier, where there is one.
        prep_folder = run_files.find_fold_dir(
            workdir, (run_files.CLASSIFIER_DIR,), fold)
      except FileNotFoundError:
        prep_folder = run_dir
      logging.info('G from the shared stage-1 run %s.', ckpt)
  state, meta = checkpointing.load_state_tree(ckpt)
  if 'model' not in meta:
    raise ValueError(f'{ckpt}: the checkpoint meta has no "model" fields.')
  # The model fields stage 1 stored; checkpoints from before model.gde_width
  # existed lack it: their Gde has G's width.
  config = ml_collections.ConfigDict(
      {'model': {'gde_width': 0.0, **meta['model']}})
  generator = models.build_generator(config)
  variables = gan_steps.g_variables(state)
  prep_folder = prep_folder or folder
  if run_files.has_part(prep_folder, run_files.CLASSIFIER_DIR):
    preprocessing = run_files.read_json(
        os.path.join(prep_folder, run_files.CLASSIFIER_DIR,
                     run_files.CLASSIFIER_JSON),
        'classifier')['preprocessing']
  else:
    preprocessing = run_files.run_preprocessing(run_dir, generator.image_size)
  preprocessing = dict(preprocessing, image_size=generator.image_size)
  return Reenactor(generator, variables, preprocessing, folder)
