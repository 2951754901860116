"""REL-GAN networks (DESIGN.md §2) as Flax Linen modules.

Paper names used throughout:
  Ges: expression encoder, x -> f_e (the identity-free expression code, 30-d).
  Get: identity encoder, x -> f_i (50-d).
  Gde: decoder, concat(f_e, f_i) -> x_bar (a face in [-1, 1]).
  Generator (G): Gde(Ges(x_s), Get(x_t)), i.e. the target person x_t wearing
    the source expression of x_s. Submodules are named 'Ges', 'Get', 'Gde', so
    G's variables['params'] == {'Ges': ..., 'Get': ..., 'Gde': ...}.
  Discriminator (D): a shared trunk with two heads, De (Ne expressions + one
    "fake" class) and Di (Ni identities).
  MLP: the stage-2 classifier on the frozen f_e.
  CNNBaseline: the Ges trunk + one dense layer, trained end to end.

Inputs are NHWC floats in [-1, 1] of size image_size x image_size (a multiple
of 32). `width` multiplies every conv channel count (never the dense sizes).
The conv, up-conv, GroupNorm and pooling layer types come in as `ops`
(relgan_jax/model/layers.py): `layers.PLAIN` (flax's layers, the default) or their
CPU formulation `cpu_layers.OPS`, picked once by `layer_ops` where the
builders below make the networks; how a layer is computed, never what.
Computation runs in `dtype`; parameters are always float32 and every module's
outputs are float32, so losses never see bfloat16.
"""

import functools
import math
from typing import Any, Optional, Sequence

import flax.linen as nn
import jax.numpy as jnp
import ml_collections

from relgan_jax.model import cpu_layers
from relgan_jax.model import layers

Dtype = Any

ENCODER_CHANNELS = (64, 128, 256, 512, 512)
DECODER_CHANNELS = (512, 256, 128, 64, 32)
DISCRIMINATOR_CHANNELS = (16, 32, 64, 128)
DISCRIMINATOR_SHARED = 1024
DISCRIMINATOR_HEAD = (512, 256)
NORMS = ('group', 'batch', 'none')
D_NORMS = ('none', 'group')  # No BatchNorm in D: real and fake batches differ.
LEAKY_SLOPE = 0.2


def conv_channels(channels: int, width: float) -> int:
  """The width-scaled channel count: max(1, round(channels * width))."""
  return max(1, int(round(channels * width)))


def norm_groups(channels: int) -> int:
  """GroupNorm groups: gcd(32, C), so every narrow width stays valid."""
  return math.gcd(32, channels)


def _check_image(x: jnp.ndarray, image_size: int, module: str) -> None:
  if image_size % 32:
    raise ValueError(
        f'{module}: image_size={image_size} is not a multiple of 32 '
        '(config.model.image_size).')
  if x.ndim != 4 or x.shape[1:] != (image_size, image_size, 3):
    raise ValueError(
        f'{module}: expected images of shape [B, {image_size}, {image_size}, 3]'
        f' (NHWC, config.model.image_size), got {tuple(x.shape)}.')


def normalize_layer(kind: str, x: jnp.ndarray, train: bool, *, dtype: Dtype,
                    axis_name: Optional[str], name: str,
                    ops: layers.Ops = layers.PLAIN) -> jnp.ndarray:
  """The generator's normalisation, 'group' | 'batch' | 'none'.

  Call from inside a compact method: the layer becomes a submodule `name`.
  BatchNorm in training averages its statistics over `axis_name` (the train
  step passes 'data'), so every device count gives the same result.
  GroupNorm is `ops.group_norm` with gcd(32, C) groups.
  """
  if kind == 'group':
    return ops.group_norm(num_groups=norm_groups(x.shape[-1]), dtype=dtype,
                          name=name)(x)
  if kind == 'batch':
    return nn.BatchNorm(use_running_average=not train, momentum=0.9,
                        axis_name=axis_name if train else None, dtype=dtype,
                        name=name)(x)
  if kind == 'none':
    return x
  raise ValueError(f'norm must be one of {NORMS} (config.model.norm), got '
                   f'{kind!r}.')


class EncoderTrunk(nn.Module):
  """Five down blocks (Conv 3x3 -> norm -> LeakyReLU(0.2) -> 2x2 avg pool).

  Returns the flattened (image_size/32)^2 * C5 features; sows each block's
  activation before its pooling as intermediates 'block0'..'block4'.
  """
  image_size: int = 96
  width: float = 1.0
  norm: str = 'group'
  dtype: Dtype = jnp.float32
  bn_axis_name: Optional[str] = None
  ops: layers.Ops = layers.PLAIN

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    _check_image(x, self.image_size, type(self).__name__)
    x = x.astype(self.dtype)
    for i, c in enumerate(ENCODER_CHANNELS):
      x = self.ops.conv(conv_channels(c, self.width), (3, 3), dtype=self.dtype,
                        name=f'conv{i}')(x)
      x = normalize_layer(self.norm, x, train, dtype=self.dtype,
                          axis_name=self.bn_axis_name, name=f'norm{i}',
                          ops=self.ops)
      x = nn.leaky_relu(x, LEAKY_SLOPE)
      # Kept only when applied with mutable=['intermediates'] (the expression
      # reader's perceptual term, relgan_jax/stage1/expression_reader.py).
      self.sow('intermediates', f'block{i}', x)
      x = self.ops.avg_pool(x)
    return x.reshape(x.shape[0], -1)


class _Encoder(nn.Module):
  """Encoder trunk + Dense to `features` (float32 output)."""
  image_size: int = 96
  width: float = 1.0
  norm: str = 'group'
  dtype: Dtype = jnp.float32
  bn_axis_name: Optional[str] = None
  ops: layers.Ops = layers.PLAIN

  def _encode(self, x, train, features):
    h = EncoderTrunk(self.image_size, self.width, self.norm, self.dtype,
                     self.bn_axis_name, ops=self.ops, name='trunk')(x, train)
    return nn.Dense(features, dtype=self.dtype, name='head')(h).astype(
        jnp.float32)


class Ges(_Encoder):
  """Expression encoder: x [B, S, S, 3] -> f_e [B, f_e_dim]."""
  f_e_dim: int = 30

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    return self._encode(x, train, self.f_e_dim)


class Get(_Encoder):
  """Identity encoder: x [B, S, S, 3] -> f_i [B, f_i_dim]."""
  f_i_dim: int = 50

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    return self._encode(x, train, self.f_i_dim)


class Gde(nn.Module):
  """Decoder: (f_e, f_i) -> x_bar [B, S, S, 3] in [-1, 1].

  Dense -> (S/32, S/32, C) -> ReLU -> five up blocks (nearest 2x -> Conv 3x3 ->
  norm -> ReLU) -> Conv 3x3 to 3 channels -> tanh.
  """
  image_size: int = 96
  width: float = 1.0
  norm: str = 'group'
  dtype: Dtype = jnp.float32
  bn_axis_name: Optional[str] = None
  ops: layers.Ops = layers.PLAIN

  @nn.compact
  def __call__(self, f_e: jnp.ndarray, f_i: jnp.ndarray,
               train: bool = False) -> jnp.ndarray:
    if self.image_size % 32:
      raise ValueError(f'Gde: image_size={self.image_size} is not a multiple '
                       'of 32 (config.model.image_size).')
    s = self.image_size // 32
    c0 = conv_channels(DECODER_CHANNELS[0], self.width)
    h = jnp.concatenate([f_e, f_i], axis=-1).astype(self.dtype)
    h = nn.Dense(s * s * c0, dtype=self.dtype, name='dense')(h)
    h = nn.relu(h.reshape(h.shape[0], s, s, c0))
    for i, c in enumerate(DECODER_CHANNELS):
      # Nearest 2x upsampling, then Conv 3x3 (ops.up_conv: both, one layer).
      h = self.ops.up_conv(conv_channels(c, self.width), (3, 3),
                           dtype=self.dtype, name=f'conv{i}')(h)
      h = normalize_layer(self.norm, h, train, dtype=self.dtype,
                          axis_name=self.bn_axis_name, name=f'norm{i}',
                          ops=self.ops)
      h = nn.relu(h)
    h = self.ops.conv(3, (3, 3), dtype=self.dtype, name='to_rgb')(h)
    return jnp.tanh(h.astype(jnp.float32))


class Generator(nn.Module):
  """G: x_bar = Gde(Ges(x_s), Get(x_t)) (reenactment)."""
  image_size: int = 96
  width: float = 1.0
  norm: str = 'group'
  dtype: Dtype = jnp.float32
  f_e_dim: int = 30
  f_i_dim: int = 50
  bn_axis_name: Optional[str] = None
  ops: layers.Ops = layers.PLAIN
  gde_width: float = 0.0  # Gde's own width multiplier; 0 = `width`.

  def setup(self):
    common = dict(image_size=self.image_size, norm=self.norm,
                  dtype=self.dtype, bn_axis_name=self.bn_axis_name,
                  ops=self.ops)
    self.Ges = Ges(f_e_dim=self.f_e_dim, width=self.width, **common)
    self.Get = Get(f_i_dim=self.f_i_dim, width=self.width, **common)
    self.Gde = Gde(width=self.gde_width or self.width, **common)

  def __call__(self, x_s: jnp.ndarray, x_t: jnp.ndarray,
               train: bool = False) -> jnp.ndarray:
    return self.Gde(self.Ges(x_s, train), self.Get(x_t, train), train)

  def reenact_and_encode(self, x_s: jnp.ndarray, x_t: jnp.ndarray,
                         others: jnp.ndarray, train: bool = False):
    """(x_bar, f_e): x_bar = G(x_s, x_t) and f_e = Ges([x_s; others]), one
    Ges pass for both (stage 1's expression-contrast term reads the f_e)."""
    f_e = self.Ges(jnp.concatenate([x_s, others]), train)
    x_bar = self.Gde(f_e[:x_s.shape[0]], self.Get(x_t, train), train)
    return x_bar, f_e

  def encode_expression(self, x: jnp.ndarray, train: bool = False):
    """f_e = Ges(x)."""
    return self.Ges(x, train)

  def encode_identity(self, x: jnp.ndarray, train: bool = False):
    """f_i = Get(x)."""
    return self.Get(x, train)

  def decode(self, f_e: jnp.ndarray, f_i: jnp.ndarray, train: bool = False):
    """x_bar = Gde(f_e, f_i)."""
    return self.Gde(f_e, f_i, train)


class _DHead(nn.Module):
  """Dense 512 -> LeakyReLU -> Dense 256 -> LeakyReLU -> Dense num_outputs."""
  num_outputs: int
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, h: jnp.ndarray) -> jnp.ndarray:
    for i, features in enumerate(DISCRIMINATOR_HEAD):
      h = nn.leaky_relu(nn.Dense(features, dtype=self.dtype,
                                 name=f'dense{i}')(h), LEAKY_SLOPE)
    return nn.Dense(self.num_outputs, dtype=self.dtype, name='logits')(
        h).astype(jnp.float32)


class Discriminator(nn.Module):
  """D: x -> (de_logits [B, Ne + 1], di_logits [B, Ni]).

  Class Ne of De is "fake". Four down blocks (Conv 3x3 -> [GroupNorm] ->
  LeakyReLU(0.2) -> 2x2 avg pool), Dense 1024 shared, then the De and Di
  heads. `norm` is 'none' (the paper's D) or 'group' (per image, so real and
  fake images never share statistics).
  """
  image_size: int = 96
  width: float = 1.0
  norm: str = 'none'
  dtype: Dtype = jnp.float32
  num_expressions: int = 6
  num_identities: int = 101
  ops: layers.Ops = layers.PLAIN

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False):
    del train  # D has no train-dependent layers; kept for a uniform call.
    _check_image(x, self.image_size, 'Discriminator')
    h = x.astype(self.dtype)
    for i, c in enumerate(DISCRIMINATOR_CHANNELS):
      h = self.ops.conv(conv_channels(c, self.width), (3, 3), dtype=self.dtype,
                        name=f'conv{i}')(h)
      h = normalize_layer(self.norm, h, False, dtype=self.dtype,
                          axis_name=None, name=f'norm{i}', ops=self.ops)
      h = nn.leaky_relu(h, LEAKY_SLOPE)
      h = self.ops.avg_pool(h)
    h = h.reshape(h.shape[0], -1)
    h = nn.leaky_relu(nn.Dense(DISCRIMINATOR_SHARED, dtype=self.dtype,
                               name='shared')(h), LEAKY_SLOPE)
    de = _DHead(self.num_expressions + 1, self.dtype, name='De')(h)
    di = _DHead(self.num_identities, self.dtype, name='Di')(h)
    return de, di


class MLP(nn.Module):
  """Stage-2 classifier: f_e -> Dense 256 -> ReLU -> dropout -> Dense 128 ->
  ReLU -> Dense Ne (logits). Dropout needs the 'dropout' rng when train."""
  num_expressions: int = 6
  hidden: Sequence[int] = (256, 128)
  dropout_rate: float = 0.5
  dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, f_e: jnp.ndarray, train: bool = False) -> jnp.ndarray:
    h = f_e.astype(self.dtype)
    for i, features in enumerate(self.hidden):
      h = nn.relu(nn.Dense(features, dtype=self.dtype, name=f'dense{i}')(h))
      if i == 0:
        h = nn.Dropout(self.dropout_rate, deterministic=not train)(h)
    return nn.Dense(self.num_expressions, dtype=self.dtype, name='logits')(
        h).astype(jnp.float32)


class CNNBaseline(nn.Module):
  """The paper's "CNN (baseline)": the Ges trunk + Dense to Ne logits."""
  image_size: int = 96
  width: float = 1.0
  norm: str = 'group'
  dtype: Dtype = jnp.float32
  num_expressions: int = 6
  bn_axis_name: Optional[str] = None
  ops: layers.Ops = layers.PLAIN

  @nn.compact
  def __call__(self, x: jnp.ndarray, train: bool = False,
               return_features: bool = False):
    """Returns logits, or (logits, penultimate features) if return_features."""
    features = EncoderTrunk(self.image_size, self.width, self.norm, self.dtype,
                            self.bn_axis_name, ops=self.ops,
                            name='trunk')(x, train)
    logits = nn.Dense(self.num_expressions, dtype=self.dtype, name='head')(
        features).astype(jnp.float32)
    if return_features:
      return logits, features.astype(jnp.float32)
    return logits


# --- Factories from the config ------------------------------------------------


def check_model_config(model_config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming the config.model field that is invalid."""
  if model_config.image_size <= 0 or model_config.image_size % 32:
    raise ValueError('config.model.image_size must be a positive multiple of '
                     f'32 (five 2x poolings), got {model_config.image_size}.')
  if model_config.width <= 0:
    raise ValueError(
        f'config.model.width must be > 0, got {model_config.width}.')
  for field in ('d_width', 'gde_width'):
    if model_config[field] < 0:
      raise ValueError(f'config.model.{field} must be >= 0 (0 = same as '
                       f'width), got {model_config[field]}.')
  if model_config.d_norm not in D_NORMS:
    raise ValueError(f'config.model.d_norm must be one of {D_NORMS}, got '
                     f'{model_config.d_norm!r}.')
  if model_config.norm not in NORMS:
    raise ValueError(f'config.model.norm must be one of {NORMS}, got '
                     f'{model_config.norm!r}.')
  if model_config.dtype not in ('float32', 'bfloat16', 'float16'):
    raise ValueError('config.model.dtype must be float32 | bfloat16 | float16, '
                     f'got {model_config.dtype!r}.')
  if model_config.conv_impl not in layers.IMPLS:
    raise ValueError(f'config.model.conv_impl must be one of {layers.IMPLS}, '
                     f'got {model_config.conv_impl!r}.')
  for field in ('f_e_dim', 'f_i_dim'):
    if model_config[field] <= 0:
      raise ValueError(f'config.model.{field} must be > 0.')


def layer_ops(conv_impl: str) -> layers.Ops:
  """The layer formulation for config.model.conv_impl: 'xla' -> the plain
  layers, 'fast' -> their CPU formulation, 'auto' -> 'fast' on the CPU
  backend, 'xla' elsewhere (layers.resolve_impl)."""
  return (cpu_layers.OPS if layers.resolve_impl(conv_impl) == 'fast'
          else layers.PLAIN)


@functools.partial(layers.jit_init, static_argnums=(0, 2))
def init_on_images(module: nn.Module, key, image_size: int):
  """module.init(key, a zero image [1, S, S, 3]): the variables of a network
  that reads faces. The module is static (flax modules hash by their fields),
  so equal networks, e.g. every fold's, share one compiled program (compiled
  as an initialiser: layers.jit_init)."""
  return module.init(key, jnp.zeros((1, image_size, image_size, 3),
                                    jnp.float32))


def build_generator(config: ml_collections.ConfigDict,
                    bn_axis_name: Optional[str] = None) -> Generator:
  """G from config.model, as validated at entry (config_checks;
  bn_axis_name: the mapped axis for BatchNorm)."""
  m = config.model
  return Generator(image_size=m.image_size, width=m.width, norm=m.norm,
                   dtype=jnp.dtype(m.dtype), f_e_dim=m.f_e_dim,
                   f_i_dim=m.f_i_dim, bn_axis_name=bn_axis_name,
                   ops=layer_ops(m.conv_impl), gde_width=m.gde_width)


def build_discriminator(config: ml_collections.ConfigDict,
                        num_expressions: int,
                        num_identities: int) -> Discriminator:
  """D from config.model with Ne + 1 De logits and Ni Di logits."""
  m = config.model
  if num_expressions < 1 or num_identities < 1:
    raise ValueError('Discriminator needs >= 1 expression and identity class, '
                     f'got Ne={num_expressions}, Ni={num_identities}.')
  return Discriminator(image_size=m.image_size,
                       width=m.d_width or m.width,
                       norm=m.d_norm,
                       dtype=jnp.dtype(m.dtype),
                       num_expressions=num_expressions,
                       num_identities=num_identities,
                       ops=layer_ops(m.conv_impl))


def build_classifier(config: ml_collections.ConfigDict,
                     num_expressions: int) -> CNNBaseline:
  """The CNN baseline's network at G's width and norm (config.model): the
  paper's "CNN (baseline)" and the expression reader of stage 1."""
  m = config.model
  return CNNBaseline(image_size=m.image_size, width=m.width, norm=m.norm,
                     dtype=jnp.dtype(m.dtype),
                     num_expressions=num_expressions,
                     ops=layer_ops(m.conv_impl))
