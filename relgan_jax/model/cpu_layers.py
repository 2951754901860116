"""The CPU formulations of the networks' layers (config.model.conv_impl 'fast').

The same functions as the plain layers the networks are written with
(relgan_jax/model/layers.py: `flax.linen.Conv`, `layers.UpsampleConv`,
`flax.linen.GroupNorm`, `layers.avg_pool_2x2`), with the same parameters,
formulated for XLA:CPU, whose convolutions run on YNNPACK near matrix-multiply
speed forwards but whose weight gradients (a "convolution with a
batch-sized kernel") run several times slower:

* `conv_fast`, a custom VJP: the weight gradient is a matrix product,
  im2col(x)^T @ dy (per chunk of a large batch); the forward and the input
  gradient (itself a convolution, of dy with the flipped kernel) are each an
  XLA convolution, or, for few output channels, one matrix product to every
  tap followed by a shifted sum, or, for tiny images and for few input
  channels (RGB) over few positions, an im2col matrix product (see
  `conv_fast`).
* Nearest 2x upsampling followed by a 3x3 convolution is computed (for inputs
  above 3x3 pixels) as a sub-pixel convolution: each of the four output
  phases (row and column parity) is a 2x2 convolution of the low-resolution
  input whose taps are sums of the 3x3 taps; all four are one 2x2
  convolution with 4*Cout outputs, interleaved back (depth to space). The
  same linear map with 16/36 of the multiply-adds and without the upsampled
  tensor.
* 2x2 average pooling as a reshape and a mean, which XLA:CPU fuses with the
  layers around it instead of running a separate reduce-window op.
* GroupNorm with one-pass statistics (relgan_jax/model/group_norm.py).

`OPS` bundles them as a `layers.Ops`; `models.layer_ops` picks it on the CPU
backend. Outputs and gradients equal the plain layers' up to float rounding
(tests/test_layers.py); parameters and checkpoints are the same either way.
Measured effects: benchmarks/README.md.
"""

import functools
from typing import Any, Callable, Sequence, Tuple

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp

from relgan_jax.model import group_norm
from relgan_jax.model import layers

Dtype = Any
Padding = Tuple[Tuple[int, int], Tuple[int, int]]
_DIMENSION_NUMBERS = ('NHWC', 'HWIO', 'NHWC')


def same_padding(kernel_shape: Sequence[int]) -> Padding:
  """SAME padding of a stride-1 convolution with this kernel."""
  kh, kw = kernel_shape[:2]
  return ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)


def conv_xla(x: jnp.ndarray, kernel: jnp.ndarray,
             padding: Padding) -> jnp.ndarray:
  """Stride-1 NHWC x HWIO convolution with explicit padding (plain lax)."""
  return lax.conv_general_dilated(x, kernel, (1, 1), padding,
                                  dimension_numbers=_DIMENSION_NUMBERS)


def im2col(x: jnp.ndarray, kh: int, kw: int, padding: Padding) -> jnp.ndarray:
  """Patches [B, Ho, Wo, kh*kw*C], ordered (dy, dx, c) like a reshaped HWIO
  kernel, so that conv(x, k) == im2col(x) @ k.reshape(kh*kw*C, Cout)."""
  x = jnp.pad(x, ((0, 0), *padding, (0, 0)))
  ho, wo = x.shape[1] - kh + 1, x.shape[2] - kw + 1
  return jnp.concatenate([x[:, i:i + ho, j:j + wo, :]
                          for i in range(kh) for j in range(kw)], axis=-1)


def im2col_t(x: jnp.ndarray, kh: int, kw: int, padding: Padding) -> jnp.ndarray:
  """im2col(x) transposed, [kh*kw*C, B*Ho*Wo], built tap-major from a
  channel-major copy of x, so each tap is one contiguous block."""
  b, _, _, c = x.shape
  xt = jnp.pad(x.transpose(3, 0, 1, 2), ((0, 0), (0, 0), *padding))
  ho, wo = xt.shape[2] - kh + 1, xt.shape[3] - kw + 1
  taps = [xt[:, :, i:i + ho, j:j + wo] for i in range(kh) for j in range(kw)]
  return jnp.stack(taps).reshape(kh * kw * c, b * ho * wo)


# The most elements weight_grad's patch matrix has per chunk of the batch
# (4 MiB in float32).
WEIGHT_GRAD_CHUNK_ELEMENTS = 1 << 20


def weight_grad(x: jnp.ndarray, dy: jnp.ndarray, kernel_shape: Sequence[int],
                padding: Padding) -> jnp.ndarray:
  """dL/dkernel of conv_xla(x, kernel, padding) given dy = dL/dy, as the
  matrix product im2col(x)^T @ dy over all B*Ho*Wo output positions (one,
  or one per chunk of the batch when the patches would exceed
  WEIGHT_GRAD_CHUNK_ELEMENTS).

  The patches are built already transposed (im2col_t): XLA:CPU's fast
  (YNNPACK) matrix product needs its left operand's contracted axis minor,
  and XLA would otherwise give the patch-building fusion a transposed layout,
  which it writes several times more slowly.
  """
  kh, kw, cin, cout = kernel_shape
  b, ho, wo = dy.shape[:3]
  # A large batch in chunks of images, their products summed: a patch matrix
  # far beyond the caches costs more to write than its product does (the CNN
  # baseline's first two layers at 64 images of 64x64; benchmarks/README.md).
  pieces = -(-b * kh * kw * cin * ho * wo // WEIGHT_GRAD_CHUNK_ELEMENTS)
  chunk = -(-b // pieces)
  grad = None
  for b0 in range(0, b, chunk):
    part = jnp.dot(im2col_t(x[b0:b0 + chunk], kh, kw, padding),
                   dy[b0:b0 + chunk].reshape(-1, cout),
                   preferred_element_type=jnp.float32)
    grad = part if grad is None else grad + part
  return grad.reshape(kh, kw, cin, cout)


def _tap_matrix(kernel: jnp.ndarray) -> jnp.ndarray:
  """[kh, kw, Cin, Cout] -> [Cin, kh*kw*Cout] (every tap's 1x1 kernel)."""
  kh, kw, cin, cout = kernel.shape
  return kernel.transpose(2, 0, 1, 3).reshape(cin, kh * kw * cout)


def _shift_sum(z: jnp.ndarray, kh: int, kw: int, padding: Padding,
               cout: int) -> jnp.ndarray:
  """y[h, w] = sum over taps (i, j) of pad(z)[h + i, w + j, tap (i, j)]."""
  z = jnp.pad(z, ((0, 0), *padding, (0, 0)))
  ho, wo = z.shape[1] - kh + 1, z.shape[2] - kw + 1
  y = 0
  for i in range(kh):
    for j in range(kw):
      t = (i * kw + j) * cout
      y = y + z[:, i:i + ho, j:j + wo, t:t + cout]
  return y


def _shift_gather(dy: jnp.ndarray, kh: int, kw: int, padding: Padding,
                  height: int, width: int) -> jnp.ndarray:
  """The transpose of _shift_sum: dz[a, b, tap (i, j)] = dy[a + pt - i,
  b + pl - j] (0 outside dy), for an input of height x width."""
  (pt, _), (pl, _) = padding
  bottom = max(0, height + pt - dy.shape[1])
  right = max(0, width + pl - dy.shape[2])
  dy = jnp.pad(dy, ((0, 0), (kh - 1, bottom), (kw - 1, right), (0, 0)))
  return jnp.concatenate(
      [dy[:, pt + kh - 1 - i:pt + kh - 1 - i + height,
          pl + kw - 1 - j:pl + kw - 1 - j + width, :]
       for i in range(kh) for j in range(kw)], axis=-1)


def _transposed_padding(kernel_shape: Sequence[int],
                        padding: Padding) -> Padding:
  """Padding of conv(dy, flipped kernel) == the input gradient of a conv."""
  kh, kw = kernel_shape[:2]
  (pt, pb), (pl, pr) = padding
  return (kh - 1 - pt, kh - 1 - pb), (kw - 1 - pl, kw - 1 - pr)


def _flipped(kernel: jnp.ndarray) -> jnp.ndarray:
  """The kernel of the input-gradient convolution: taps reversed, in/out
  channels swapped."""
  return jnp.flip(kernel, (0, 1)).transpose(0, 1, 3, 2)


def _conv_im2col(x: jnp.ndarray, kernel: jnp.ndarray,
                 padding: Padding) -> jnp.ndarray:
  kh, kw, cin, cout = kernel.shape
  return jnp.dot(im2col(x, kh, kw, padding),
                 kernel.reshape(kh * kw * cin, cout),
                 preferred_element_type=jnp.float32).astype(x.dtype)


# How conv_fast computes a forward convolution (its own, or the one that is
# its input gradient).
_OUTPUT_SIDE, _IM2COL, _CONV = 'output_side', 'im2col', 'conv'

# Outputs with at most this many pixels per image are computed as im2col
# matrix products: XLA:CPU's convolutions are slow on such small images (and
# the patches are tiny).
SMALL_OUTPUT_PIXELS = 16

# Convolutions of inputs with at most FEW_CHANNELS channels (images, and
# the input gradients of layers with few outputs) over at most this many
# output positions (batch x pixels) are computed as im2col matrix products:
# XLA:CPU runs them as slow generic convolutions (measured: 1.3-2x faster
# forward and weight gradient at 8-48 images of 32x32; mixed from ~65k
# positions on, e.g. 16 images of 64x64).
FEW_CHANNELS = 4
FEW_CHANNELS_IM2COL_POSITIONS = 1 << 16


def _forward_mode(x_shape: Sequence[int], kernel_shape: Sequence[int],
                  padding: Padding) -> str:
  kh, kw, cin, cout = kernel_shape
  (pt, pb), (pl, pr) = padding
  out_pixels = (x_shape[1] + pt + pb - kh + 1) * (x_shape[2] + pl + pr - kw + 1)
  if (cin <= FEW_CHANNELS
      and x_shape[0] * out_pixels <= FEW_CHANNELS_IM2COL_POSITIONS):
    return _IM2COL
  if kh * kw * cout <= cin or cout <= 4:
    return _OUTPUT_SIDE
  if out_pixels <= SMALL_OUTPUT_PIXELS:
    return _IM2COL
  return _CONV


def _forward(x, kernel, padding, mode):
  kh, kw, _, cout = kernel.shape
  if mode == _OUTPUT_SIDE:
    z = jnp.dot(x, _tap_matrix(kernel), preferred_element_type=jnp.float32)
    return _shift_sum(z.astype(x.dtype), kh, kw, padding, cout)
  if mode == _IM2COL:
    return _conv_im2col(x, kernel, padding)
  return conv_xla(x, kernel, padding)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3))
def _conv_mm(x, kernel, padding, mode):
  return _forward(x, kernel, padding, mode)


def _conv_mm_fwd(x, kernel, padding, mode):
  return _forward(x, kernel, padding, mode), (x, kernel)


def _conv_mm_bwd(padding, mode, residuals, dy):
  x, kernel = residuals
  kh, kw, cin, cout = kernel.shape
  if mode == _OUTPUT_SIDE:
    # dz, dy gathered at the tap offsets, serves both matrix products.
    dz = _shift_gather(dy, kh, kw, padding, x.shape[1], x.shape[2])
    dx = lax.dot_general(dz, _tap_matrix(kernel), (((3,), (1,)), ((), ())),
                         preferred_element_type=jnp.float32)
    dk = lax.dot_general(x, dz, (((0, 1, 2), (0, 1, 2)), ((), ())),
                         preferred_element_type=jnp.float32)
    dk = dk.reshape(cin, kh, kw, cout).transpose(1, 2, 0, 3)
    return dx.astype(x.dtype), dk.astype(kernel.dtype)
  # The input gradient is itself a convolution (of dy with the flipped
  # kernel), computed the best way for its own shape.
  flipped = _flipped(kernel)
  t_padding = _transposed_padding(kernel.shape, padding)
  dx = _forward(dy, flipped, t_padding,
                _forward_mode(dy.shape, flipped.shape, t_padding))
  dk = weight_grad(x, dy, kernel.shape, padding).astype(kernel.dtype)
  return dx.astype(x.dtype), dk


_conv_mm.defvjp(_conv_mm_fwd, _conv_mm_bwd)


def conv_fast(x: jnp.ndarray, kernel: jnp.ndarray,
              padding: Padding) -> jnp.ndarray:
  """conv_xla, computed the fastest way on XLA:CPU for its shape.

  Forward (and, by the same rule, the input gradient, which is the
  convolution of dy with the flipped kernel):
  * few input channels (<= FEW_CHANNELS, e.g. RGB) over few output
    positions (<= FEW_CHANNELS_IM2COL_POSITIONS): an im2col matrix product;
  * few output channels (kh*kw*Cout <= Cin, or Cout <= 4, e.g. to-RGB): one
    matrix product to every tap's output, Z = x @ kernel [Cin, kh*kw*Cout],
    then a shifted sum of Z; its backward gathers dy at the tap offsets and
    takes two matrix products;
  * small outputs (<= SMALL_OUTPUT_PIXELS pixels): an im2col matrix product;
  * otherwise an XLA convolution (YNNPACK, close to matmul speed).
  The weight gradient is one matrix product, im2col(x)^T @ dy.
  """
  x, kernel = layers.match_varying(x, kernel)
  return _conv_mm(x, kernel, padding,
                  _forward_mode(x.shape, kernel.shape, padding))


def subpixel_kernel(kernel: jnp.ndarray) -> jnp.ndarray:
  """The 3x3 kernel of (nearest 2x upsample -> 3x3 SAME conv) as one 2x2
  kernel [2, 2, Cin, 4*Cout] on the 1-padded low-resolution input.

  Output channel block (a, b) (row parity a, column parity b) holds the phase
  whose pixel (2i+a, 2j+b) reads low-resolution rows i-1+a, i+a and columns
  j-1+b, j+b: along each axis, parity 0 uses taps (k0, k1+k2), parity 1 uses
  (k0+k1, k2).
  """
  if kernel.shape[:2] != (3, 3):
    raise ValueError(f'subpixel_kernel needs a 3x3 kernel, got {kernel.shape}.')

  def fold(k, axis):  # -> stacked parities along a new axis after `axis`.
    k0, k1, k2 = (jnp.take(k, i, axis=axis) for i in range(3))
    even = jnp.stack([k0, k1 + k2], axis=axis)
    odd = jnp.stack([k0 + k1, k2], axis=axis)
    return jnp.stack([even, odd], axis=axis + 1)

  k = fold(kernel, 0)  # [2(ky), 2(a), 3, Cin, Cout]
  k = fold(k, 2)  # [2(ky), 2(a), 2(kx), 2(b), Cin, Cout]
  cin, cout = kernel.shape[2:]
  return k.transpose(0, 2, 4, 1, 3, 5).reshape(2, 2, cin, 4 * cout)


# Up-convolutions of inputs with at most this many pixels are computed as
# upsampling + conv_fast: on such tiny images the sub-pixel kernel's folding
# and its gradient's unfolding (weight-sized transposes) cost more than the
# 9/4 extra multiply-adds (measured on XLA:CPU, 1x1 to 4x4 inputs).
SUBPIXEL_MIN_INPUT_PIXELS = 9


def upsample_conv_fast(x: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
  """conv(layers.upsample_nearest(x), kernel, SAME) as a sub-pixel
  convolution."""
  b, h, w, _ = x.shape
  cout = kernel.shape[-1]
  y = conv_fast(x, subpixel_kernel(kernel), ((1, 1), (1, 1)))
  y = y.reshape(b, h + 1, w + 1, 2, 2, cout)  # [B, h+1, w+1, a, b, Cout]
  # Phase (a, b) of output pixel (i, j) is y[i + a, j + b, a, b].
  rows = [jnp.stack([y[:, a:a + h, c:c + w, a, c] for c in range(2)], axis=3)
          for a in range(2)]  # each [B, h, w, 2(b), Cout]
  return jnp.stack(rows, axis=2).reshape(b, 2 * h, 2 * w, cout)


class FastConv(nn.Module):
  """`flax.linen.Conv(features, kernel_size)` (SAME, stride 1, bias, NHWC)
  computed by `conv_fast`: the same parameters ('kernel' [kh, kw, Cin,
  features], 'bias' [features]) and initialisation (LeCun normal, zeros).

  Attributes:
    features: output channels.
    kernel_size: (kh, kw), both odd.
    use_bias: add a bias.
    dtype: computation dtype (inputs and kernel are cast to it); None keeps
      the input's dtype.
    param_dtype: parameter dtype.
  """
  features: int
  kernel_size: Sequence[int] = (3, 3)
  use_bias: bool = True
  dtype: Dtype = None
  param_dtype: Dtype = jnp.float32
  kernel_init: Callable = nn.initializers.lecun_normal()
  bias_init: Callable = nn.initializers.zeros_init()

  def _convolve(self, x: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
    return conv_fast(x, kernel, same_padding(kernel.shape))

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    kh, kw = self.kernel_size
    if kh % 2 == 0 or kw % 2 == 0:
      raise ValueError(
          f'Conv: kernel_size must be odd, got {self.kernel_size}.')
    if x.ndim != 4:
      raise ValueError(f'Conv: expected NHWC input, got shape {x.shape}.')
    kernel = self.param('kernel', self.kernel_init,
                        (kh, kw, x.shape[-1], self.features), self.param_dtype)
    dtype = self.dtype or x.dtype
    y = self._convolve(x.astype(dtype), kernel.astype(dtype))
    if self.use_bias:
      y = y + self.param('bias', self.bias_init, (self.features,),
                         self.param_dtype).astype(dtype)
    return y


class FastUpsampleConv(FastConv):
  """`layers.UpsampleConv` (nearest 2x upsampling, then the convolution),
  as a sub-pixel convolution for 3x3 kernels on inputs above
  SUBPIXEL_MIN_INPUT_PIXELS pixels."""

  def _convolve(self, x: jnp.ndarray, kernel: jnp.ndarray) -> jnp.ndarray:
    if (kernel.shape[:2] == (3, 3)
        and x.shape[1] * x.shape[2] > SUBPIXEL_MIN_INPUT_PIXELS):
      return upsample_conv_fast(x, kernel)
    return super()._convolve(layers.upsample_nearest(x), kernel)


def avg_pool_2x2(x: jnp.ndarray) -> jnp.ndarray:
  """`layers.avg_pool_2x2` as a reshape and a mean over the two window axes:
  XLA:CPU fuses it with the layers around it, forwards and backwards."""
  b, h, w, c = x.shape
  if h % 2 or w % 2:
    raise ValueError(f'avg_pool_2x2 needs even H and W, got {x.shape}.')
  return jnp.mean(x.reshape(b, h // 2, 2, w // 2, 2, c), axis=(2, 4))


OPS = layers.Ops(conv=FastConv, up_conv=FastUpsampleConv,
                 group_norm=group_norm.GroupNorm, avg_pool=avg_pool_2x2)
