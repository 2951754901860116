"""Shapes, parameter counts and options of the REL-GAN networks."""

import chex
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import default as default_config
from relgan_jax.model import models

NE, NI = 6, 101


def _count(tree):
  return int(sum(np.prod(x.shape) for x in jax.tree.leaves(tree)))


def _conv(cin, cout):
  return 9 * cin * cout + cout


def _dense(cin, cout):
  return cin * cout + cout


@pytest.mark.parametrize('size', [32, 64, 96])
def test_output_shapes(size):
  """Every module's outputs at 32, 64 and 96 (abstract evaluation)."""
  b = 2
  x = jax.ShapeDtypeStruct((b, size, size, 3), jnp.float32)
  key = jax.random.key(0)
  g = models.Generator(image_size=size, width=0.125)
  g_vars = jax.eval_shape(g.init, key, x, x)
  assert set(g_vars['params']) == {'Ges', 'Get', 'Gde'}
  assert jax.eval_shape(g.apply, g_vars, x, x).shape == (b, size, size, 3)
  f_e = jax.eval_shape(lambda v, x: g.apply(v, x, method='encode_expression'),
                       g_vars, x)
  f_i = jax.eval_shape(lambda v, x: g.apply(v, x, method='encode_identity'),
                       g_vars, x)
  assert f_e.shape == (b, 30) and f_i.shape == (b, 50)
  assert f_e.dtype == jnp.float32
  x_bar = jax.eval_shape(lambda v, e, i: g.apply(v, e, i, method='decode'),
                         g_vars, f_e, f_i)
  assert x_bar.shape == (b, size, size, 3)

  # The standalone encoders/decoder are the same modules G is made of.
  ges = models.Ges(image_size=size, width=0.125)
  ges_vars = jax.eval_shape(ges.init, key, x)
  assert jax.tree.map(lambda a: a.shape, ges_vars['params']) == jax.tree.map(
      lambda a: a.shape, g_vars['params']['Ges'])
  get = models.Get(image_size=size, width=0.125)
  assert jax.eval_shape(get.init_with_output, key, x)[0].shape == (b, 50)
  gde = models.Gde(image_size=size, width=0.125)
  assert jax.eval_shape(gde.init_with_output, key, f_e, f_i)[0].shape == (
      b, size, size, 3)

  d = models.Discriminator(image_size=size, width=0.125, num_expressions=NE,
                           num_identities=NI)
  (de, di), _ = jax.eval_shape(d.init_with_output, key, x)
  assert de.shape == (b, NE + 1) and di.shape == (b, NI)

  cnn = models.CNNBaseline(image_size=size, width=0.125, num_expressions=NE)
  (logits, feats), _ = jax.eval_shape(
      lambda k, x: cnn.init_with_output(k, x, return_features=True), key, x)
  assert logits.shape == (b, NE)
  assert feats.shape == (b, (size // 32) ** 2 * 64)  # round(512 * 0.125).

  mlp = models.MLP(num_expressions=NE)
  out, mlp_vars = jax.eval_shape(mlp.init_with_output, key, f_e)
  assert out.shape == (b, NE)
  assert [mlp_vars['params'][f'dense{i}']['kernel'].shape for i in (0, 1)] == [
      (30, 256), (256, 128)]


def test_real_forward_tiny():
  """A real (not abstract) pass: finite, x_bar within tanh's range."""
  key = jax.random.key(1)
  x = jax.random.uniform(key, (2, 32, 32, 3), minval=-1, maxval=1)
  g = models.Generator(image_size=32, width=0.125)
  variables = jax.jit(g.init)(key, x, x)
  x_bar = jax.jit(g.apply)(variables, x, x)
  assert x_bar.shape == (2, 32, 32, 3)
  assert np.all(np.isfinite(x_bar)) and np.all(np.abs(x_bar) <= 1.0)


def test_parameter_counts_at_paper_defaults():
  """96x96, width 1.0, GroupNorm, Ne=6, Ni=101 against a hand count."""
  config = default_config.get_config()
  x = jax.ShapeDtypeStruct((1, 96, 96, 3), jnp.float32)
  key = jax.random.key(0)
  g_vars = jax.eval_shape(models.build_generator(config).init, key, x, x)
  d_vars = jax.eval_shape(models.build_discriminator(config, NE, NI).init, key,
                          x)

  enc = [3, 64, 128, 256, 512, 512]
  trunk = sum(_conv(a, b) + 2 * b for a, b in zip(enc, enc[1:]))
  ges = trunk + _dense(3 * 3 * 512, 30)
  get = trunk + _dense(3 * 3 * 512, 50)
  dec = [512, 512, 256, 128, 64, 32]
  gde = (_dense(80, 3 * 3 * 512)
         + sum(_conv(a, b) + 2 * b for a, b in zip(dec, dec[1:]))
         + _conv(32, 3))
  g_params = g_vars['params']
  assert (_count(g_params['Ges']), _count(g_params['Get']),
          _count(g_params['Gde'])) == (ges, get, gde)
  assert _count(g_params) == 12_499_283

  dch = [3, 16, 32, 64, 128]
  head = lambda n: _dense(1024, 512) + _dense(512, 256) + _dense(256, n)
  d_total = (sum(_conv(a, b) for a, b in zip(dch, dch[1:]))
             + _dense(6 * 6 * 128, 1024) + head(NE + 1) + head(NI))
  assert _count(d_vars['params']) == d_total == 6_157_068


def test_width_scales_convs_only_and_groupnorm_groups():
  assert [models.conv_channels(c, 0.125) for c in (64, 512, 16)] == [8, 64, 2]
  assert models.conv_channels(3, 0.1) == 1
  assert [models.norm_groups(c) for c in (8, 48, 64, 19)] == [8, 16, 32, 1]
  x = jax.ShapeDtypeStruct((1, 32, 32, 3), jnp.float32)
  # Width 0.3 gives odd channel counts (19, 38, ...): GroupNorm stays valid.
  g = models.Generator(image_size=32, width=0.3)
  params = jax.eval_shape(g.init, jax.random.key(0), x, x)['params']
  trunk = params['Ges']['trunk']
  assert trunk['conv0']['kernel'].shape == (3, 3, 3, 19)
  assert params['Ges']['head']['kernel'].shape == (154, 30)  # Dense unscaled.
  assert params['Gde']['dense']['kernel'].shape == (80, 154)


@pytest.mark.parametrize('norm,collections,norm_params', [
    ('group', {'params'}, {'scale', 'bias'}),
    ('batch', {'params', 'batch_stats'}, {'scale', 'bias'}),
    ('none', {'params'}, None),
])
def test_norm_choices(norm, collections, norm_params):
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
  g = models.Generator(image_size=32, width=0.125, norm=norm)
  variables = jax.eval_shape(g.init, jax.random.key(0), x, x)
  assert set(variables) == collections
  trunk = variables['params']['Ges']['trunk']
  if norm_params is None:
    assert 'norm0' not in trunk
  else:
    assert set(trunk['norm0']) == norm_params
  d = models.Discriminator(image_size=32, width=0.125)
  d_params = jax.eval_shape(d.init, jax.random.key(0), x)['params']
  assert not any('norm' in k for k in d_params)


def test_discriminator_width_and_norm_from_the_config():
  config = default_config.get_config()
  config.model.image_size, config.model.width = 32, 0.125
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)

  def d_params(config):
    d = models.build_discriminator(config, 6, 10)
    return jax.eval_shape(d.init, jax.random.key(0), x)['params']

  # d_width 0 = G's width: 16 * 0.125 = 2 channels in the first conv.
  assert d_params(config)['conv0']['kernel'].shape == (3, 3, 3, 2)
  config.model.d_width, config.model.d_norm = 1.0, 'group'
  params = d_params(config)
  assert params['conv0']['kernel'].shape == (3, 3, 3, 16)
  assert params['conv3']['kernel'].shape == (3, 3, 64, 128)
  assert [params[f'norm{i}']['scale'].shape for i in range(4)] == [
      (16,), (32,), (64,), (128,)]
  # G is unchanged by D's fields.
  g = models.build_generator(config)
  g_params = jax.eval_shape(g.init, jax.random.key(0), x, x)['params']
  assert g_params['Ges']['trunk']['conv0']['kernel'].shape == (3, 3, 3, 8)


def test_decoder_width_from_the_config_leaves_the_encoders_alone():
  config = default_config.get_config()
  config.model.image_size, config.model.width = 32, 0.125
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)

  def g_params(config):
    g = models.build_generator(config)
    return jax.eval_shape(g.init, jax.random.key(0), x, x)['params']

  # gde_width 0 = G's width: Gde's up blocks 512..32 * 0.125 = 64..4.
  default = g_params(config)
  assert default['Gde']['conv0']['kernel'].shape == (3, 3, 64, 64)
  assert default['Gde']['conv4']['kernel'].shape == (3, 3, 8, 4)
  config.model.gde_width = 0.5
  wide = g_params(config)
  # Dense 80 -> 1x1x256, up blocks 256, 128, 64, 32, 16, then to RGB.
  assert wide['Gde']['dense']['kernel'].shape == (80, 256)
  assert [wide['Gde'][f'conv{i}']['kernel'].shape[-1] for i in range(5)] == [
      256, 128, 64, 32, 16]
  assert wide['Gde']['to_rgb']['kernel'].shape == (3, 3, 16, 3)
  # The encoders, and the CNN baseline (Ges's trunk), keep `width`.
  for part in ('Ges', 'Get'):
    chex.assert_trees_all_equal_shapes(wide[part], default[part])
  baseline = models.build_classifier(config, 7)
  b_params = jax.eval_shape(baseline.init, jax.random.key(0), x)['params']
  assert b_params['trunk']['conv0']['kernel'].shape == (3, 3, 3, 8)


def test_bfloat16_compute_float32_params_and_outputs():
  key = jax.random.key(0)
  x = jax.ShapeDtypeStruct((1, 32, 32, 3), jnp.float32)
  g = models.Generator(image_size=32, width=0.125, dtype=jnp.bfloat16)
  variables = jax.eval_shape(g.init, key, x, x)
  assert all(a.dtype == jnp.float32 for a in jax.tree.leaves(variables))
  out = jax.eval_shape(g.apply, variables, x, x)
  assert out.dtype == jnp.float32


def test_bad_inputs_name_the_config_field():
  config = default_config.get_config()
  config.model.image_size = 100
  with pytest.raises(ValueError, match='config.model.image_size'):
    models.check_model_config(config.model)  # At entry (config_checks).
  config = default_config.get_config()
  config.model.norm = 'layer'
  with pytest.raises(ValueError, match='config.model.norm'):
    models.check_model_config(config.model)
  g = models.Generator(image_size=32, width=0.125)
  with pytest.raises(ValueError, match=r'\[B, 32, 32, 3\]'):
    g.init(jax.random.key(0), jnp.zeros((1, 64, 64, 3)), jnp.zeros(
        (1, 64, 64, 3)))
