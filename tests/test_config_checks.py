"""Config validation at start, and user-fixable failures as one clear line.

Most checks run in-process on config_checks.check_config; the command line is
run as a subprocess for the failures that must reach the user as one line
(`relgan_jax: error: ...`, status 1, no traceback): an invalid config value, a
missing or truncated data shard. (A NaN/Inf loss stopping stage 1 with the
step and term named is tested in tests/test_train_loop.py.)
"""

import importlib
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from configs import small
from configs import tiny
from data_prep import readers
from relgan_jax import cli
from relgan_jax import config_checks
from relgan_jax.data import input_pipeline
from relgan_jax.data import loading
from relgan_jax.data import records
from relgan_jax.stage1 import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHIPPED = ('default', 'tiny', 'synthetic', 'synthetic_full', 'synthetic_gpu',
           'bu3dfe', 'bu4dfe', 'ckplus', 'oulu_casia', 'sfew')


@pytest.mark.parametrize('name', SHIPPED + tuple(
    f'small:{dataset}' for dataset in small.DATASETS))
def test_shipped_configs_are_valid(name):
  module, *arg = name.split(':')  # configs/small.py:ckplus takes its dataset.
  config = importlib.import_module(f'configs.{module}').get_config(*arg)
  config_checks.check_config(config, num_devices=8, num_processes=2)


def test_synthetic_configs_share_their_generated_sets():
  """The demo and both long configs generate the same evaluation and
  pre-training sets into the same folders: after one of them, the others
  reuse its sets (a set of other settings is refused,
  loading.check_generated_people)."""
  configs = [importlib.import_module(f'configs.{name}').get_config()
             for name in ('synthetic', 'synthetic_full', 'synthetic_gpu')]
  settings = [(c.data.dir, loading.synthetic_settings(c),
               loading.pretrain_data_dir(c, 'unused'),
               loading.synthetic_settings(c, pretrain=True)) for c in configs]
  assert settings[0][1]['num_identities'] == 64
  assert settings[0][3]['num_identities'] == 128
  assert settings[1] == settings[0] and settings[2] == settings[0]


def test_dataset_names_match_the_data_prep_readers():
  assert set(config_checks.DATASETS) == set(readers.READERS) | {'synthetic'}


def _set(config, field, value):
  *path, last = field.split('.')
  node = config
  for part in path:
    node = node[part]
  node[last] = value


# (field, bad value, text the one-line message must contain)
BAD = [
    ('model.image_size', 100, 'config.model.image_size must be a positive '
     'multiple of 32'),
    ('model.width', 0.0, 'config.model.width must be > 0'),
    ('model.norm', 'layer', 'config.model.norm must be one of'),
    ('model.dtype', 'float64', 'config.model.dtype must be'),
    ('model.conv_impl', 'cudnn', 'config.model.conv_impl must be one of'),
    ('model.d_width', -1.0, 'config.model.d_width must be >= 0'),
    ('model.gde_width', -0.5, 'config.model.gde_width must be >= 0'),
    ('model.d_norm', 'batch', 'config.model.d_norm must be one of'),
    ('data.synthetic_pretrain_identities', 1,
     'config.data.synthetic_pretrain_identities must be 0'),
    ('data.name', 'ck+', "config.data.name must be one of bu3dfe, bu4dfe, "
     "ckplus, image_folder, oulu_casia, sfew, synthetic, got 'ck+'"),
    ('data.num_workers', -1, 'config.data.num_workers must be an integer >= 0'),
    ('data.synthetic_seed', -1,
     'config.data.synthetic_seed must be an integer >= 0'),
    ('augment.margin_ratio', 0.5, 'config.augment.margin_ratio must be >= 1'),
    ('augment.rotations', (), 'config.augment.rotations must be a non-empty'),
    ('loss.lambda_pix', -1.0, 'config.loss.lambda_pix must be >= 0, got -1.0'),
    ('loss.lambda_id', math.nan, 'config.loss.lambda_id must be a finite'),
    ('train.batch_size', 0, 'config.train.batch_size must be an integer >= 1'),
    ('train.g_lr', 0.0, 'config.train.g_lr must be a finite number > 0'),
    ('train.b1', 1.0, 'config.train.b1 must be in [0, 1)'),
    ('train.g_ema_decay', 1.0, 'config.train.g_ema_decay must be in [0, 1)'),
    ('train.g_steps_per_d_step', 0, 'config.train.g_steps_per_d_step must'),
    ('train.g_boost_start', -0.5, 'config.train.g_boost_start must be >= 0'),
    ('train.keep_checkpoints', 0, 'config.train.keep_checkpoints must be'),
    ('train.preemption_grace_secs', 0.0,
     'config.train.preemption_grace_secs must be a finite number > 0'),
    ('stage2.dropout', 1.0, 'config.stage2.dropout must be in [0, 1)'),
    ('stage2.mlp_lr', -1e-3, 'config.stage2.mlp_lr must be a finite'),
    ('stage2.mlp_hidden', (256, 0), 'config.stage2.mlp_hidden must be'),
    ('protocol.num_folds', 0, 'config.protocol.num_folds must be an integer'),
    ('protocol.folds', (0, 2), 'config.protocol.folds must list folds in 0..1'),
    ('seed', -1, 'config.seed must be an integer >= 0'),
]


@pytest.mark.parametrize('field, value, message', BAD,
                         ids=[b[0] for b in BAD])
def test_invalid_value_fails_naming_the_field(field, value, message):
  config = tiny.get_config()
  _set(config, field, value)
  with pytest.raises(cli.ConfigError) as e:
    config_checks.check_config(config, num_devices=1, num_processes=1)
  assert message in str(e.value)
  assert '\n' not in str(e.value)


def test_cross_field_checks():
  config = tiny.get_config()  # Global batch 8.
  with pytest.raises(cli.ConfigError,
                     match=r'batch_size 8 \(the global batch\) is not '
                     r'divisible by the 3 devices'):
    config_checks.check_config(config, num_devices=3, num_processes=1)
  with pytest.raises(cli.ConfigError, match='by the 3 processes'):
    config_checks.check_config(config, num_processes=3)
  config.train.num_steps, config.train.num_epochs = -1, 0
  with pytest.raises(cli.ConfigError, match='num_steps > 0 or'):
    config_checks.check_config(config)
  config = tiny.get_config()
  config.protocol.freeze_pretrained = True
  with pytest.raises(cli.ConfigError, match='pretrained_checkpoint'):
    config_checks.check_config(config)
  config.data.synthetic_pretrain_identities = 4  # A set to pre-train on.
  config_checks.check_config(config)
  config.protocol.pretrained_checkpoint = 'runs/other'
  with pytest.raises(cli.ConfigError, match='choose one'):
    config_checks.check_config(config)
  # The reader's fields are read only when it is on.
  config = tiny.get_config()
  config.reader.epochs = 0
  config_checks.check_config(config)
  config.loss.lambda_reader = 1.0
  with pytest.raises(cli.ConfigError,
                     match=r'config.reader.epochs .*must be a finite number > 0'):
    config_checks.check_config(config)


def test_data_without_identities_needs_a_pretrained_stage1():
  from configs import sfew  # pylint: disable=g-import-not-at-top
  config = sfew.get_config()  # Pre-trains on BU-4DFE, frozen.
  assert config.protocol.pretrain_data_dir and config.protocol.freeze_pretrained
  assert 'x_t = x_tg' in sfew.__doc__
  config.protocol.pretrain_data_dir = ''  # Frozen at nothing.
  with pytest.raises(cli.ConfigError, match='freeze_pretrained'):
    config_checks.check_config(config)
  config.protocol.freeze_pretrained = False  # Stage 1 on SFEW from scratch.
  with pytest.raises(cli.ConfigError) as e:
    config_checks.check_config(config)
  message = str(e.value)
  assert "config.data.name 'sfew' has no identity labels" in message
  assert ('set config.protocol.pretrained_checkpoint or '
          'config.protocol.pretrain_data_dir') in message
  assert '\n' not in message
  config.protocol.pretrained_checkpoint = 'runs/bu4dfe'  # Fine-tuned: allowed.
  config_checks.check_config(config)
  config = tiny.get_config()  # Data with identities train from scratch.
  config_checks.check_config(config)
  config.data.name = 'sfew'
  with pytest.raises(cli.ConfigError, match='no identity labels'):
    config_checks.check_config(config)


def test_train_gan_checks_the_stage1_fields():
  config = tiny.get_config()
  config.loss.lambda_adv = -0.7
  with pytest.raises(cli.ConfigError, match='lambda_adv'):
    train.check_config(config)


def test_non_finite_metrics_name_step_and_term():
  with pytest.raises(train.NonFiniteLossError,
                     match=r'non-finite d_grad_norm=inf, g_pix=nan at step 7'):
    train.check_finite({'d_total': np.float32(1.0), 'g_pix': np.float32('nan'),
                        'd_grad_norm': np.float32('inf')}, 7)


# --- Data errors --------------------------------------------------------------


def _shard(data_dir):
  return os.path.join(data_dir, records.PreparedDataset(data_dir)
                      .manifest['shards'][0]['file'])


def test_corrupt_record_in_the_stream_names_the_file(data_dir, tmp_path):
  bad_dir = str(tmp_path / 'bad')
  shutil.copytree(data_dir, bad_dir)
  shard = _shard(bad_dir)
  with open(shard, 'r+b') as f:  # Flip a byte in the middle (same size).
    f.seek(os.path.getsize(shard) // 2)
    byte = f.read(1)
    f.seek(-1, os.SEEK_CUR)
    f.write(bytes([byte[0] ^ 0xFF]))
  dataset = records.PreparedDataset(bad_dir)  # Sizes still match the index.
  config = tiny.get_config()
  it = input_pipeline.stage1_dataset(dataset, np.arange(len(dataset)), config,
                                     seed=0, shard_index=0, shard_count=1)
  with pytest.raises(records.DataError, match=f'{shard}, record'):
    for _ in range(4 * len(dataset) // config.train.batch_size):
      next(it)


def _main(*args):
  env = dict(os.environ, PYTHONPATH=REPO, JAX_PLATFORMS='cpu')
  env.pop('XLA_FLAGS', None)
  return subprocess.run([sys.executable, '-m', 'relgan_jax.main', *args],
                        cwd=REPO, env=env, capture_output=True, text=True,
                        timeout=300)


def _one_error_line(out):
  assert out.returncode == 1, out.stderr[-3000:]
  assert 'Traceback' not in out.stderr
  errors = [l for l in out.stderr.splitlines() if 'relgan_jax: error:' in l]
  assert len(errors) == 1, out.stderr[-3000:]
  return errors[0]


def test_command_line_reports_bad_config_and_bad_shards_in_one_line(
    data_dir, tmp_path):
  line = _one_error_line(_main(
      '--config=configs/tiny.py', f'--workdir={tmp_path / "a"}',
      '--config.model.image_size=100', f'--config.data.dir={data_dir}'))
  assert line == ('relgan_jax: error: config.model.image_size must be a '
                  'positive multiple of 32 (five 2x poolings), got 100.')

  # A shard listed in the manifest is missing, another is truncated.
  for damage in ('missing', 'truncated'):
    bad_dir = str(tmp_path / damage)
    shutil.copytree(data_dir, bad_dir)
    shard = _shard(bad_dir)
    if damage == 'missing':
      os.remove(shard)
    else:
      os.truncate(shard, os.path.getsize(shard) - 10)
    line = _one_error_line(_main(
        '--config=configs/tiny.py', f'--workdir={tmp_path / damage}_run',
        '--mode=train_gan', f'--config.data.dir={bad_dir}',
        '--config.data.generate_if_missing=False',
        '--config.protocol.num_folds=2'))
    assert line.startswith(f'relgan_jax: error: {shard}: shard ')
    assert damage in line
