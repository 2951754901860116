"""The CPU formulation of the layers (cpu_layers.OPS) computes what the plain
layers (layers.PLAIN) do, values and grads; one place picks between them."""

import functools

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp
from jax.sharding import Mesh, PartitionSpec as P
import numpy as np
import pytest

from configs import default as default_config
from relgan_jax.model import cpu_layers
from relgan_jax.model import group_norm
from relgan_jax.model import layers
from relgan_jax.model import losses
from relgan_jax.model import models

IMPLS = ('xla', 'fast')
_CONV_TYPES = {('xla', 1): nn.Conv, ('xla', 2): layers.UpsampleConv,
               ('fast', 1): cpu_layers.FastConv,
               ('fast', 2): cpu_layers.FastUpsampleConv}


def _conv(x, kernel, impl, upsample=1):
  """The plain layer ('xla') or its CPU formulation ('fast'), without a
  bias, applied with this kernel."""
  module = _CONV_TYPES[impl, upsample](kernel.shape[-1], kernel.shape[:2],
                                       use_bias=False)
  return module.apply({'params': {'kernel': kernel}}, x)


def _loss_and_grads(impl, x, kernel, cotangent, upsample):
  def loss(x, kernel):
    y = _conv(x, kernel, impl, upsample)
    return jnp.sum(y * cotangent)
  return jax.jit(jax.value_and_grad(loss, argnums=(0, 1)))(x, kernel)


def _assert_close(a, b, rtol=2e-5):
  a, b = np.asarray(a), np.asarray(b)
  np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


# (batch, side, Cin, Cout, upsample), one or more per way conv_fast computes
# a forward or an input gradient: im2col for few input channels (Cin = 3,
# whose input gradient, Cout = 3, is output-side), XLA conv (Cin > Cout, odd
# side), output-side matmul (9 * Cout <= Cin; Cout <= 4), im2col on small
# outputs (<= 16 pixels), and the sub-pixel up-convolutions (through each of
# those; inputs of at most cpu_layers.SUBPIXEL_MIN_INPUT_PIXELS pixels are
# upsampled first instead). test_few_channels_as_xla_conv covers Cin = 3
# through XLA's convolution (more positions than tests can afford).
SHAPES = [
    (3, 5, 12, 5, 1),
    (2, 8, 3, 16, 1),
    (2, 8, 32, 3, 1),
    (2, 6, 8, 3, 1),
    (2, 2, 8, 16, 1),
    (2, 4, 8, 6, 2),
    (2, 1, 8, 8, 2),
    (2, 3, 8, 8, 2),
    (1, 5, 6, 4, 2),
]


def _check_fast_matches_plain(b, side, cin, cout, upsample):
  k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
  x = jax.random.normal(k1, (b, side, side, cin))
  kernel = jax.random.normal(k2, (3, 3, cin, cout)) / np.sqrt(9 * cin)
  out = side * upsample
  cotangent = jax.random.normal(k3, (b, out, out, cout))
  y_plain = _conv(x, kernel, 'xla', upsample)
  y_fast = jax.jit(lambda x, k: _conv(x, k, 'fast', upsample))(x, kernel)
  assert y_fast.shape == y_plain.shape == (b, out, out, cout)
  _assert_close(y_fast, y_plain)
  (l_plain, (dx_plain, dk_plain)) = _loss_and_grads('xla', x, kernel,
                                                     cotangent, upsample)
  (l_fast, (dx_fast, dk_fast)) = _loss_and_grads('fast', x, kernel,
                                                  cotangent, upsample)
  _assert_close(l_fast, l_plain)
  _assert_close(dx_fast, dx_plain)
  _assert_close(dk_fast, dk_plain)


@pytest.mark.parametrize('b,side,cin,cout,upsample', SHAPES)
def test_fast_matches_plain(b, side, cin, cout, upsample):
  _check_fast_matches_plain(b, side, cin, cout, upsample)


def test_few_channels_as_xla_conv(monkeypatch):
  monkeypatch.setattr(cpu_layers, 'FEW_CHANNELS_IM2COL_POSITIONS', 0)
  _check_fast_matches_plain(2, 8, 3, 16, 1)


def test_weight_gradient_over_the_batch_in_chunks(monkeypatch):
  # 5 images of 6x6x8 through a 3x3 kernel: 2,592 patch elements each; a
  # limit of 6,000 makes ceil(5 * 2,592 / 6,000) = 3 pieces of 2, 2, 1 images.
  monkeypatch.setattr(cpu_layers, 'WEIGHT_GRAD_CHUNK_ELEMENTS', 6000)
  chunks = []
  real_im2col_t = cpu_layers.im2col_t
  monkeypatch.setattr(cpu_layers, 'im2col_t', lambda x, *a: (
      chunks.append(x.shape[0]), real_im2col_t(x, *a))[1])
  _check_fast_matches_plain(5, 6, 8, 16, 1)
  assert chunks == [2, 2, 1]


def test_forward_mode_by_shape():
  def mode(bhw, cin, cout):  # A 3x3 SAME convolution of [B, H, W, cin].
    return cpu_layers._forward_mode((*bhw, cin), (3, 3, cin, cout),
                                    ((1, 1), (1, 1)))

  limit = cpu_layers.FEW_CHANNELS_IM2COL_POSITIONS
  assert mode((8, 32, 32), 3, 16) == cpu_layers._IM2COL  # RGB, 8192 positions.
  assert mode((limit // 1024, 32, 32), 4, 4) == cpu_layers._IM2COL
  assert mode((limit // 1024 + 1, 32, 32), 3, 16) == cpu_layers._CONV
  assert mode((limit // 1024 + 1, 32, 32), 3, 4) == cpu_layers._OUTPUT_SIDE
  assert mode((8, 32, 32), 5, 16) == cpu_layers._CONV
  assert mode((8, 32, 32), 45, 5) == cpu_layers._OUTPUT_SIDE  # 9 * 5 <= 45.
  assert mode((8, 32, 32), 16, 3) == cpu_layers._OUTPUT_SIDE  # To RGB.
  assert mode((8, 4, 4), 16, 32) == cpu_layers._IM2COL  # 16 output pixels.
  assert mode((8, 5, 5), 16, 32) == cpu_layers._CONV


def test_upsample_nearest_and_subpixel_kernel_by_hand():
  x = jnp.arange(4.0).reshape(1, 2, 2, 1)
  np.testing.assert_array_equal(
      layers.upsample_nearest(x)[0, :, :, 0],
      [[0, 0, 1, 1], [0, 0, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
  # One channel, taps k[i, j] = 10 i + j: parity 0 folds taps (0, 1+2), parity
  # 1 folds (0+1, 2), along each axis.
  k = (10.0 * jnp.arange(3)[:, None] + jnp.arange(3)[None, :])[:, :, None,
                                                                None]
  folded = cpu_layers.subpixel_kernel(k).reshape(2, 2, 2, 2)  # ky, kx, a, b
  rows = {0: [[0], [1, 2]], 1: [[0, 1], [2]]}
  for a in range(2):
    for b in range(2):
      for ky in range(2):
        for kx in range(2):
          want = sum(10 * i + j for i in rows[a][ky] for j in rows[b][kx])
          assert folded[ky, kx, a, b] == want, (a, b, ky, kx)


def test_conv_module_matches_flax_conv():
  """Same parameter tree, same initial values, same outputs as nn.Conv."""
  x = jax.random.normal(jax.random.key(1), (2, 8, 8, 5))
  key = jax.random.key(2)
  flax_conv = nn.Conv(7, (3, 3), padding='SAME')
  ref_vars = flax_conv.init(key, x)
  for conv in (cpu_layers.FastConv(7, (3, 3)),
               cpu_layers.OPS.conv(7, (3, 3))):
    variables = conv.init(key, x)
    assert jax.tree.map(jnp.shape, variables) == {
        'params': {'kernel': (3, 3, 5, 7), 'bias': (7,)}}
    jax.tree.map(np.testing.assert_array_equal, variables, ref_vars)
    _assert_close(conv.apply(ref_vars, x), flax_conv.apply(ref_vars, x))


def test_conv_module_upsample_and_dtype():
  x = jax.random.normal(jax.random.key(3), (2, 4, 4, 6))
  conv = cpu_layers.FastUpsampleConv(5, dtype=jnp.bfloat16)
  variables = conv.init(jax.random.key(4), x)
  y = conv.apply(variables, x)
  assert y.shape == (2, 8, 8, 5) and y.dtype == jnp.bfloat16
  assert variables['params']['kernel'].dtype == jnp.float32
  plain = layers.UpsampleConv(5, (3, 3)).apply(variables, x)
  np.testing.assert_allclose(y.astype(jnp.float32), plain, rtol=0.05,
                             atol=0.05)


@pytest.mark.parametrize('groups,shape', [
    (1, (3, 5, 6, 16)), (16, (3, 5, 6, 16)),
    # 90 pixels, summed as 30 blocks of 3 (group_norm.SUM_WIDTH):
    (4, (2, 9, 10, 16)),
])
def test_group_norm_matches_flax(groups, shape):
  """Same params, values and gradients as nn.GroupNorm (scale/bias away from
  their initial values, inputs with an offset)."""
  k1, k2, k3 = jax.random.split(jax.random.key(8), 3)
  x = 2.0 * jax.random.normal(k1, shape) + 0.5
  cotangent = jax.random.normal(k2, x.shape)
  ref = nn.GroupNorm(groups)
  variables = ref.init(k3, x)
  mine = group_norm.GroupNorm(groups)
  assert jax.tree.map(jnp.shape, mine.init(k3, x)) == jax.tree.map(
      jnp.shape, variables)
  variables = jax.tree.map(lambda a: a + 0.3 * jnp.arange(a.size), variables)

  @functools.partial(jax.jit, static_argnums=0)  # One program, not op by op.
  def values_and_grads(module, variables, x):
    return module.apply(variables, x), jax.grad(
        lambda v, x: jnp.sum(module.apply(v, x) * cotangent),
        argnums=(0, 1))(variables, x)

  jax.tree.map(_assert_close, values_and_grads(mine, variables, x),
               values_and_grads(ref, variables, x))


def test_avg_pool_fast_matches_flax():
  """The reshape-and-mean pooling: nn.avg_pool's values and input gradient;
  odd sides are refused."""
  k1, k2 = jax.random.split(jax.random.key(9))
  x = jax.random.normal(k1, (2, 6, 4, 3))
  cotangent = jax.random.normal(k2, (2, 3, 2, 3))
  pool = {'xla': layers.avg_pool_2x2, 'fast': cpu_layers.avg_pool_2x2}
  pooled = {impl: pool[impl](x) for impl in IMPLS}
  # By hand: the mean of the top-left window of example 0, channel 0.
  np.testing.assert_allclose(pooled['fast'][0, 0, 0, 0],
                             np.mean(np.asarray(x)[0, :2, :2, 0]), rtol=1e-6)
  _assert_close(pooled['fast'], nn.avg_pool(x, (2, 2), strides=(2, 2)))
  grads = {impl: jax.grad(lambda x: jnp.sum(
      pool[impl](x) * cotangent))(x) for impl in IMPLS}
  _assert_close(grads['fast'], grads['xla'])
  np.testing.assert_allclose(grads['fast'][0, 1, 1], cotangent[0, 0, 0] / 4,
                             rtol=1e-6)
  with pytest.raises(ValueError, match='even'):
    cpu_layers.avg_pool_2x2(jnp.zeros((1, 5, 4, 1)))


def test_layer_ops_are_picked_in_one_place():
  """models.layer_ops: 'xla' -> the plain layers, 'fast' -> the CPU
  formulation, 'auto' -> by backend (these tests run on CPU); the builders
  use it, so the networks they make carry one Ops."""
  assert models.layer_ops('xla') is layers.PLAIN
  assert layers.PLAIN.conv is nn.Conv and layers.PLAIN.group_norm is (
      nn.GroupNorm)
  assert models.layer_ops('fast') is cpu_layers.OPS
  assert models.layer_ops('auto') is cpu_layers.OPS
  assert layers.on_cpu() and layers.on_cpu(jax.devices()[0])
  config = default_config.get_config()
  for impl, ops in (('xla', layers.PLAIN), ('fast', cpu_layers.OPS)):
    config.model.conv_impl = impl
    g = models.build_generator(config)
    d = models.build_discriminator(config, 3, 4)
    assert g.ops is ops and d.ops is ops


def test_initialisers_compile_with_their_own_options_on_cpu(monkeypatch):
  """layers.jit_init hands init_compiler_options() to the compiler on CPU
  (an option XLA does not know fails the compile: the options reach it),
  none off CPU, and keeps one program per set of options."""
  gpu = type('Device', (), {'platform': 'gpu'})()
  assert layers.init_compiler_options(gpu) is None
  assert layers.init_compiler_options(jax.devices()[0]) == (
      layers.INIT_CPU_COMPILER_OPTIONS)
  calls = []

  def init(x):
    calls.append(1)
    return x * 2.0

  program = layers.jit_init(init)
  np.testing.assert_array_equal(program(jnp.ones(3)), np.full(3, 2.0))
  program(jnp.ones(3))
  assert len(calls) == 1  # Traced once: the program is kept.
  monkeypatch.setattr(layers, 'INIT_CPU_COMPILER_OPTIONS',
                      {'xla_no_such_option_in_xla': True})
  with pytest.raises(Exception, match='xla_no_such_option_in_xla'):
    program(jnp.ones(4))


def test_bad_settings_raise():
  x = jnp.zeros((1, 4, 4, 2))
  with pytest.raises(ValueError, match='config.model.conv_impl'):
    layers.check_impl('cudnn')
  with pytest.raises(ValueError, match='odd'):
    cpu_layers.FastConv(3, (2, 2)).init(jax.random.key(0), x)
  with pytest.raises(ValueError, match='groups'):
    group_norm.GroupNorm(3).init(jax.random.key(0), x)
  config = default_config.get_config()
  config.model.conv_impl = 'im2col'
  with pytest.raises(ValueError, match='config.model.conv_impl'):
    models.build_generator(config)


def test_fast_conv_inside_shard_map():
  """Replicated kernel, batch split over 2 devices: the kernel gradient is
  the sum over devices, as for lax.conv (whether or not the kernel was cast
  to per-device first, as the train steps do for the parameters they
  differentiate)."""
  devices = jax.devices()[:2]
  if len(devices) < 2:
    pytest.skip('needs 2 devices')
  mesh = Mesh(np.asarray(devices), ('data',))
  k1, k2 = jax.random.split(jax.random.key(5))
  x = jax.random.normal(k1, (4, 6, 6, 4))
  kernel = jax.random.normal(k2, (3, 3, 4, 8))

  def grads(impl, cast):
    def per_device(kernel, x):
      def loss(kernel):
        if cast:
          kernel = lax.pcast(kernel, 'data', to='varying')
        y = _conv(x, kernel, impl, upsample=2)
        return jnp.sum(jnp.sin(y))
      g = jax.grad(loss)(kernel)
      return lax.psum(g, 'data') if cast else g
    return jax.jit(jax.shard_map(per_device, mesh=mesh,
                                 in_specs=(P(), P('data')),
                                 out_specs=P()))(kernel, x)

  for cast in (False, True):
    _assert_close(grads('fast', cast), grads('xla', cast))


def _tiny_config(conv_impl, dtype='float32'):
  config = default_config.get_config()
  config.model.image_size = 32
  config.model.width = 0.125
  config.model.conv_impl = conv_impl
  config.model.dtype = dtype
  return config


def _gan_losses_and_grads(config, batch, params=None):
  """L_D, and L_G with its gradient for G's and D's params (the latter runs
  through D's weight gradients too), on one batch."""
  g = models.build_generator(config)
  d = models.build_discriminator(config, 6, 10)
  x_s, x_t, x_tg = batch['x_s'], batch['x_t'], batch['x_tg']
  if params is None:
    # Jitted: one compile each instead of one per op of the forward pass.
    params = (jax.jit(g.init)(jax.random.key(0), x_s, x_t)['params'],
              jax.jit(d.init)(jax.random.key(1), x_s)['params'])

  @jax.jit
  def run(params):
    def l_g(params):
      g_params, d_params = params
      x_bar = g.apply({'params': g_params}, x_s, x_t, train=True)
      de, di = d.apply({'params': d_params}, x_bar)
      return losses.g_loss(de, di, x_bar, x_tg, batch['y_e_s'],
                           batch['y_i_t'], config.loss)[0]

    g_params, d_params = params
    x_bar = g.apply({'params': g_params}, x_s, x_t, train=True)
    de, di = d.apply({'params': d_params}, jnp.concatenate([x_bar, x_s, x_t]))
    n = x_s.shape[0]
    l_d = losses.d_loss(de[:n], de[n:2 * n], di[2 * n:], batch['y_e_s'],
                        batch['y_i_t'], config.loss)[0]
    return l_d, jax.value_and_grad(l_g)(params)

  return run(params), params


@pytest.fixture(scope='module')
def batch():
  keys = jax.random.split(jax.random.key(7), 5)
  image = lambda k: jax.random.uniform(k, (2, 32, 32, 3), minval=-1,
                                       maxval=1)
  return dict(x_s=image(keys[0]), x_t=image(keys[1]), x_tg=image(keys[2]),
              y_e_s=jnp.array([1, 4]), y_i_t=jnp.array([3, 7]))


@pytest.fixture(scope='module')
def plain_result(batch):
  return _gan_losses_and_grads(_tiny_config('xla'), batch)


def _flat(tree):
  return jnp.concatenate([a.ravel() for a in jax.tree.leaves(tree)])


def test_whole_model_losses_and_grads_match(batch, plain_result):
  """L_D, L_G and the gradient of every G and D parameter: 'fast' == 'xla'
  (to 1e-4 of the largest gradient entry; conv biases before GroupNorm have
  gradients that are rounding noise around 0)."""
  (l_d, (l_g, grads)), params = plain_result
  (l_d2, (l_g2, grads2)), _ = _gan_losses_and_grads(_tiny_config('fast'),
                                                    batch, params)
  _assert_close(l_d2, l_d)
  _assert_close(l_g2, l_g)
  assert jax.tree.structure(grads2) == jax.tree.structure(grads)
  scale = float(jnp.abs(_flat(grads)).max())
  jax.tree.map(lambda a, b: np.testing.assert_allclose(
      a, b, rtol=1e-4, atol=1e-4 * scale), grads2, grads)


def test_bfloat16_losses_close_to_float32(batch, plain_result):
  """bfloat16 compute with float32 params (config.model.dtype) gives the
  float32 L_G and L_D to 1e-3 (float32 outputs; measured ~2e-5)."""
  (l_d, (l_g, _)), params = plain_result
  config = _tiny_config('auto', 'bfloat16')
  g = models.build_generator(config)
  d = models.build_discriminator(config, 6, 10)

  @jax.jit
  def gan_losses(g_params, d_params):
    x_s, x_t = batch['x_s'], batch['x_t']
    x_bar = g.apply({'params': g_params}, x_s, x_t, train=True)
    de, di = d.apply({'params': d_params}, jnp.concatenate([x_bar, x_s, x_t]))
    n = x_s.shape[0]
    l_d = losses.d_loss(de[:n], de[n:2 * n], di[2 * n:], batch['y_e_s'],
                        batch['y_i_t'], config.loss)[0]
    l_g = losses.g_loss(de[:n], di[:n], x_bar, batch['x_tg'], batch['y_e_s'],
                        batch['y_i_t'], config.loss)[0]
    return l_d, l_g

  l_d16, l_g16 = gan_losses(*params)
  assert l_g16.dtype == l_d16.dtype == jnp.float32
  np.testing.assert_allclose(l_g16, l_g, rtol=1e-3)
  np.testing.assert_allclose(l_d16, l_d, rtol=1e-3)
