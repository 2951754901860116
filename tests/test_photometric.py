"""Stage 1's photometric jitter (relgan_jax/data/photometric.py): one draw
shared by x_t and x_tg, another for x_s, values as the formula says, grey
faces stay grey, the range holds, the config is checked."""

import jax
import numpy as np
import pytest

from configs import tiny
from relgan_jax import cli
from relgan_jax import config_checks
from relgan_jax.data import photometric

N, S = 4, 8


def _batch(seed=0):
  rng = np.random.default_rng(seed)
  colour = rng.integers(0, 256, (N, S, S, 3), dtype=np.uint8)
  grey = np.repeat(rng.integers(0, 256, (N, S, S, 1), dtype=np.uint8), 3, -1)
  # x_t: faces 0-1 colour, 2-3 grey; x_tg is another photo of the same people.
  x_t = np.concatenate([colour[:2], grey[2:]])
  x_tg = np.concatenate([grey[:2] // 2 + colour[:2] // 2, grey[2:] // 3])
  return dict(x_s=colour[::-1].copy(), x_t=x_t, x_tg=x_tg,
              y_e_s=np.arange(N, dtype=np.int32))


def test_jitter_is_the_formula_with_one_draw_per_person_and_grey_kept():
  batch = _batch()
  key = jax.random.key(3)
  out = jax.device_get(photometric.jitter_triplets(key, batch, gain=0.15,
                                                   shift=20.0))
  assert set(out) == set(batch)
  np.testing.assert_array_equal(out['y_e_s'], batch['y_e_s'])
  # By hand: the key's four draws (person gain, person shift, source gain,
  # source shift), x * gain + shift, clipped.
  keys = jax.random.split(key, 4)
  u = lambda k, shape, a: np.asarray(jax.random.uniform(  # noqa: E731
      k, shape, minval=-a, maxval=a))
  person_gain = np.exp(u(keys[0], (N, 1, 1, 3), 0.15))
  person_shift = u(keys[1], (N, 1, 1, 1), 20.0)
  source_gain = np.exp(u(keys[2], (N, 1, 1, 3), 0.15))
  source_shift = u(keys[3], (N, 1, 1, 1), 20.0)
  assert np.all(np.abs(np.log(person_gain)) <= 0.15)
  assert np.ptp(person_gain[0]) > 0  # Three channel gains, not one.
  grey_gain = np.repeat(person_gain[..., :1], 3, -1)

  def expected(x, gains, shifts, grey_faces):
    gains = gains.copy()
    gains[grey_faces] = np.repeat(gains[grey_faces][..., :1], 3, -1)
    return np.clip(x.astype(np.float32) * gains + shifts, 0, 255)

  np.testing.assert_allclose(out['x_s'], expected(
      batch['x_s'], source_gain, source_shift, []), rtol=1e-6, atol=1e-4)
  np.testing.assert_allclose(out['x_t'], expected(
      batch['x_t'], person_gain, person_shift, [2, 3]), rtol=1e-6, atol=1e-4)
  # x_tg: the same draw as x_t (its faces 0-1 are colour, 2-3 grey).
  np.testing.assert_allclose(out['x_tg'], expected(
      batch['x_tg'], person_gain, person_shift, [2, 3]), rtol=1e-6,
      atol=1e-4)
  # A grey face stays grey, scaled by one gain.
  for name in ('x_t', 'x_tg'):
    for i in (2, 3):
      face = out[name][i]
      np.testing.assert_array_equal(face[..., 0], face[..., 1])
      np.testing.assert_array_equal(face[..., 0], face[..., 2])
  np.testing.assert_allclose(
      out['x_t'][2], np.clip(batch['x_t'][2] * grey_gain[2] + person_shift[2],
                             0, 255), rtol=1e-6, atol=1e-4)
  # Colour faces' channels move by different gains.
  ratio = out['x_s'][0] / np.maximum(batch['x_s'][0], 1)
  assert not np.allclose(ratio[..., 0], ratio[..., 1], atol=1e-3)


def test_jitter_keeps_the_grey_level_range_and_zero_is_the_identity():
  batch = _batch(1)
  loud = jax.device_get(photometric.jitter_triplets(
      jax.random.key(0), batch, gain=1.0, shift=128.0))
  for name in ('x_s', 'x_t', 'x_tg'):
    assert loud[name].dtype == np.float32
    assert loud[name].min() >= 0 and loud[name].max() <= 255
  # At these ranges some values clip at either end.
  values = np.concatenate([loud[n].ravel() for n in ('x_s', 'x_t', 'x_tg')])
  assert (values == 0).any() and (values == 255).any()
  quiet = jax.device_get(photometric.jitter_triplets(
      jax.random.key(0), batch, gain=0.0, shift=0.0))
  for name in ('x_s', 'x_t', 'x_tg'):
    np.testing.assert_array_equal(quiet[name], batch[name].astype(np.float32))


@pytest.mark.parametrize('field, value', [
    ('stage1_gain', -0.1), ('stage1_gain', 1.5),
    ('stage1_shift', -1.0), ('stage1_shift', 200.0),
    ('stage1_shift', float('nan'))])
def test_bad_jitter_ranges_are_one_line_errors(field, value):
  config = tiny.get_config()
  config.augment[field] = value
  with pytest.raises(cli.ConfigError, match=rf'config\.augment\.{field} '):
    config_checks.check_data(config)
