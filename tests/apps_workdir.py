"""A small workdir laid out like a finished protocol fold, for the app tests.

Built once per test process (under pytest's base temp folder) and shared by
tests/test_predict.py and tests/test_reenact.py. To stay cheap it skips the
stage-1 updates: G is freshly initialised and written with the real stage-1
checkpoint code (train_gan's layout, step 0, without D and the optimiser
states, which nothing here reads); Ges is exported with
`run_files.export_encoder`; the stage-2 MLP is really trained on that Ges's
f(e) (`stage2.train_mlp`) and saved with `run_files.save_classifier`, the call
protocol.run_fold is asked to make. The whole protocol path is exercised by
tests/test_notebook.py.

  workdir/data/            tiny synthetic set (4 people, 32 px model input)
  workdir/fold_0/stage1/   checkpoints/0
  workdir/fold_0/encoder/
  workdir/fold_0/classifier/
"""

import dataclasses
import os
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from configs import tiny
from relgan_jax.data import folds
from relgan_jax.data import records
from relgan_jax.evaluation import run_files
from relgan_jax.evaluation import stage2
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing

_BUILT: dict[str, 'Workdir'] = {}


@dataclasses.dataclass
class Workdir:
  path: str
  fold_dir: str
  config: Any
  dataset: records.PreparedDataset
  train_idx: np.ndarray
  test_idx: np.ndarray
  classifier: stage2.Classifier  # The MLP as stage 2 trained it.
  g_variables: dict


def config():
  c = tiny.get_config()
  c.data.synthetic_identities = 4
  return c


def build(root: str) -> Workdir:
  from relgan_jax.data import synthetic_set as synthetic  # pylint: disable=import-outside-toplevel
  c = config()
  workdir = os.path.join(root, 'run')
  data_dir = os.path.join(workdir, 'data')  # protocol's default place.
  synthetic.generate(data_dir, num_identities=4, num_folds=2,
                     size=round(c.model.image_size * c.augment.margin_ratio),
                     neutral_images=2, images_per_intensity=1, workers=1)
  dataset = records.PreparedDataset(data_dir)
  train_idx, test_idx = folds.split_indices(dataset, 0)
  fold_dir = os.path.join(workdir, 'fold_0')

  # A stage-1 checkpoint written by the stage-1 code (untrained, step 0).
  # G alone: what load_reenactor reads (the full GANState is checked on the
  # notebook's protocol run).
  ne = len(dataset.manifest['expression_classes'])
  g_model = models.build_generator(c)
  x = jnp.zeros((1, c.model.image_size, c.model.image_size, 3))
  g_params = jax.jit(g_model.init)(jax.random.key(0), x, x)['params']
  manager = checkpointing.make_manager(os.path.join(fold_dir, 'stage1'))
  checkpointing.save(manager, 0, {'step': 0, 'g_params': g_params}, None,
                     dict(dataset='synthetic', num_expressions=ne,
                          model=c.model.to_dict()))
  manager.wait_until_finished()
  manager.close()

  # Ges export and the stage-2 MLP on its f(e).
  encoder_dir = os.path.join(fold_dir, 'encoder')
  run_files.export_encoder(g_params, c, encoder_dir)
  ges, ges_vars = run_files.load_encoder(encoder_dir,
                                             return_variables=True)
  features = stage2.extract_features(stage2.ges_encoder_fn(ges, ges_vars),
                                     dataset, train_idx, c, batch_size=8)
  classifier = stage2.train_mlp(features, ne, c, seed=0)
  run_files.save_classifier(os.path.join(fold_dir, 'classifier'), classifier,
                            config=c, manifest=dataset.manifest)
  return Workdir(workdir, fold_dir, c, dataset, train_idx, test_idx,
                 classifier, jax.device_get({'params': g_params}))


def get(tmp_path_factory) -> Workdir:
  """The shared workdir of this test process (built on first use)."""
  root = str(tmp_path_factory.getbasetemp() / 'apps_workdir')
  if root not in _BUILT:
    os.makedirs(root, exist_ok=True)
    _BUILT[root] = build(root)
  return _BUILT[root]


def photos(folder: str) -> dict[str, str]:
  """Real photos shipped inside installed packages, as files in `folder`:
  two with one face each and one without a face."""
  from matplotlib import cbook  # pylint: disable=import-outside-toplevel
  from PIL import Image  # pylint: disable=import-outside-toplevel
  import skimage.data  # pylint: disable=import-outside-toplevel
  os.makedirs(folder, exist_ok=True)
  paths = {'grace_hopper': str(cbook.get_sample_data('grace_hopper.jpg',
                                                     asfileobj=False))}
  for name in ('astronaut', 'coffee'):  # coffee: a cup, no face.
    paths[name] = os.path.join(folder, f'{name}.png')
    if not os.path.exists(paths[name]):
      Image.fromarray(getattr(skimage.data, name)()).save(paths[name])
  return paths
