"""The command line and the dataset configs."""

import importlib
import os
import platform
import subprocess
import sys

import pytest

from relgan_jax.stage1 import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATASETS = {'bu3dfe': 10, 'ckplus': 10, 'oulu_casia': 10, 'sfew': 1,
            'bu4dfe': 10}


@pytest.mark.parametrize('name', sorted(DATASETS))
def test_dataset_configs(name):
  module = importlib.import_module(f'configs.{name}')
  config = module.get_config()
  assert config.data.name == name
  assert config.data.dir == f'data/{name}'
  assert config.protocol.num_folds == DATASETS[name]
  train.check_config(config)  # Valid as shipped.
  doc = module.__doc__
  assert f'--config=configs/{name}.py' in doc  # The launch command.
  assert f'python -m data_prep.prepare --dataset={name}' in doc


@pytest.mark.parametrize('name', sorted(DATASETS))
def test_small_recipe_keeps_the_dataset_and_its_yardstick(name):
  from configs import small, synthetic  # pylint: disable=g-import-not-at-top
  own = importlib.import_module(f'configs.{name}').get_config()
  config = small.get_config(name)
  train.check_config(config)
  # The dataset's data, protocol, stage 2 (the CNN baseline) and stage-2 crop
  # places are its own.
  for section in ('data', 'protocol', 'stage2'):
    assert config[section].to_dict() == own[section].to_dict(), section
  assert config.augment.five_crops == own.augment.five_crops
  # Stage 1 and the networks are the demo's recipe, field for field, but for
  # the expression reader and its saliency in the pixel term's map, which
  # the demo adds and the recipe leaves off (not measured on real faces),
  # and the demo's 1,800 iterations (what its 15 minutes hold).
  demo = synthetic.get_config()
  for section in ('model', 'loss', 'train'):
    ours, demos = config[section].to_dict(), demo[section].to_dict()
    if section == 'loss':
      assert (ours.pop('lambda_reader'), demos.pop('lambda_reader')) == (0, 1000)
      assert (ours.pop('pixel_change_saliency'),
              demos.pop('pixel_change_saliency')) == (0, 0.5)
    if section == 'train':
      assert (ours.pop('num_steps'), demos.pop('num_steps')) == (1500, 1800)
    assert ours == demos, section
  assert (config.model.image_size, config.model.width, config.model.d_width,
          config.train.num_steps) == (64, 0.25, 0.5, 1500)
  assert own.model.image_size == 96 and own.train.g_lr == 1e-4
  assert not config.augment.stage1_five_crops and own.augment.stage1_five_crops


@pytest.mark.parametrize('arg', [None, 'synthetic', 'CK+'])
def test_small_recipe_needs_a_dataset_name(arg):
  from configs import small  # pylint: disable=g-import-not-at-top
  with pytest.raises(ValueError, match='one of bu3dfe, bu4dfe, ckplus') as e:
    small.get_config(arg)
  assert str(e.value).endswith(f', not {arg!r}.' if arg else 'small.py:ckplus).')


def _main(*args):
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu')
  return subprocess.run([sys.executable, '-m', 'relgan_jax.main', *args],
                        cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=300)


def test_missing_data_names_path_and_prep_command(tmp_path):
  missing = str(tmp_path / 'nothing_here')
  out = _main('--config=configs/bu3dfe.py', f'--workdir={tmp_path / "run"}',
              '--mode=train_gan', f'--config.data.dir={missing}')
  assert out.returncode != 0
  assert os.path.join(missing, 'manifest.json') in out.stderr
  assert (f'python -m data_prep.prepare --dataset=bu3dfe --raw_dir=RAW '
          f'--out_dir={missing}') in out.stderr
  # On CPU, main re-executed itself with the malloc settings first.
  tuned = sys.platform == 'linux' and platform.libc_ver()[0] == 'glibc'
  assert f'glibc malloc tuned: {tuned}' in out.stderr


def test_misspelt_config_field_fails(tmp_path):
  out = _main('--config=configs/tiny.py', f'--workdir={tmp_path}',
              '--config.train.batchsize=4')
  assert out.returncode != 0
  assert 'batch_size' in out.stderr  # "Did you mean ...".
