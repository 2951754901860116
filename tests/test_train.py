"""Stage-1 loop helpers: finiteness checks, the schedule, config checks."""

import numpy as np
import pytest

from configs import tiny
from relgan_jax.stage1 import train


def _config():
  config = tiny.get_config()
  config.train.g_boost_start = 0.5
  config.train.g_steps_per_d_step = 2
  return config


def test_check_finite_names_step_and_term():
  train.check_finite({'d_total': np.float32(1.0)}, step=3)
  with pytest.raises(train.NonFiniteLossError,
                     match=r'g_adv=nan.*g_pix=inf at step 7'):
    train.check_finite({'g_adv': np.nan, 'g_pix': np.inf, 'g_exp': 0.5}, 7)


def test_schedule_and_is_time():
  config = _config()
  assert [train.is_time(s, 3, 7) for s in range(1, 8)] == [
      False, False, True, False, False, True, True]
  assert train.is_time(5, 0, 5) and not train.is_time(4, 0, 5)
  config.train.g_boost_start = 1.0
  assert {train.g_steps_at(i, 10, config) for i in range(10)} == {1}
  config.train.g_boost_start = 0.0
  assert {train.g_steps_at(i, 10, config) for i in range(10)} == {2}
  config.train.num_steps = -1
  config.train.num_epochs = 3
  assert train.num_train_steps(config, 20) == 9  # ceil(20 / 8) * 3.


@pytest.mark.parametrize('field,value', [
    ('model.image_size', 48), ('loss.lambda_pix', -1.0),
    ('train.g_steps_per_d_step', 0), ('train.d_lr', 0.0)])
def test_bad_config_fails_with_the_field_named(field, value):
  config = _config()
  section, name = field.split('.')
  config[section][name] = value
  with pytest.raises(ValueError, match=f'config.{field}'):
    train.check_config(config)
