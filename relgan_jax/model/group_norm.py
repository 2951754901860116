"""GroupNorm with one-pass statistics and a hand-written backward.

`GroupNorm` is a drop-in for `flax.linen.GroupNorm` on NHWC inputs (same
parameters, same function: float32 statistics, variance as E[x^2] - E[x]^2,
epsilon 1e-6) whose only reductions are per-(example, channel) sums over the
spatial axes, taken in a layout XLA:CPU reduces quickly. It is the GroupNorm
of `cpu_layers.OPS` (the CPU formulation of the layers); `layers.PLAIN` uses
`flax.linen.GroupNorm`. Tested equal in tests/test_layers.py.
"""

import functools
from typing import Any, Optional

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp

from relgan_jax.model import layers

Dtype = Any

# XLA:CPU reduces [B, H*W, C] over its middle axis slowly when C is narrow;
# summing blocks of k rows side by side (a [B, H*W/k, k*C] reduction, k*C
# about SUM_WIDTH) and then the k partial sums is the same sum in another
# order, 1.4-1.7x faster from 32 channels at 32x32 up (and no slower below).
SUM_WIDTH = 512


def _spatial_sum(a: jnp.ndarray) -> jnp.ndarray:
  """[B, H, W, C] -> [B, C]: the sum over H and W."""
  b, h, w, c = a.shape
  k = max(1, min(h * w, SUM_WIDTH // c))
  while (h * w) % k:
    k -= 1
  partial = jnp.sum(a.reshape(b, h * w // k, k * c), axis=1)
  return jnp.sum(partial.reshape(b, k, c), axis=1)


def _channel_sums(a: jnp.ndarray, b: Optional[jnp.ndarray] = None):
  """Float32 sums over the spatial axes of [B, H, W, C]: sum(a) and sum(a*b)
  (or sum(a*a)), per (example, channel)."""
  a = a.astype(jnp.float32)
  b = a if b is None else b.astype(jnp.float32)
  return _spatial_sum(a), _spatial_sum(a * b)


def _group_mean(v: jnp.ndarray, groups: int, count: int) -> jnp.ndarray:
  """[B, C] per-channel sums -> [B, C]: each channel gets its group's mean."""
  b, c = v.shape
  g = jnp.sum(v.reshape(b, groups, c // groups), axis=-1) / count
  return jnp.repeat(g, c // groups, axis=-1)


@functools.partial(jax.custom_vjp, nondiff_argnums=(3, 4))
def group_norm(x: jnp.ndarray, scale: jnp.ndarray, bias: jnp.ndarray,
               groups: int, epsilon: float) -> jnp.ndarray:
  """flax.linen.GroupNorm's function on NHWC x (float32 statistics, variance
  as E[x^2] - E[x]^2), with per-channel sums as the only reductions and a
  hand-written backward of two such sums and one elementwise pass."""
  return _group_norm_fwd(x, scale, bias, groups, epsilon)[0]


def _group_norm_stats(x, groups, epsilon):
  count = x.shape[1] * x.shape[2] * (x.shape[3] // groups)
  s1, s2 = _channel_sums(x)
  mean = _group_mean(s1, groups, count)
  var = jnp.maximum(_group_mean(s2, groups, count) - mean * mean, 0.0)
  return mean, lax.rsqrt(var + epsilon), count


def _group_norm_fwd(x, scale, bias, groups, epsilon):
  mean, rstd, _ = _group_norm_stats(x, groups, epsilon)
  a = rstd * scale.astype(jnp.float32)  # [B, C]
  o = bias.astype(jnp.float32) - mean * a
  y = x * a[:, None, None, :].astype(x.dtype) + o[:, None, None, :].astype(
      x.dtype)
  return y, (x, scale, mean, rstd)


def _group_norm_bwd(groups, epsilon, residuals, dy):
  del epsilon
  x, scale, mean, rstd = residuals
  count = x.shape[1] * x.shape[2] * (x.shape[3] // groups)
  gamma = scale.astype(jnp.float32)
  t1, t2 = _channel_sums(dy, x)  # sum(dy), sum(dy * x) per channel.
  # sum(dy * x_hat) with x_hat = (x - mean) * rstd.
  t2_hat = rstd * (t2 - mean * t1)
  d_bias = jnp.sum(t1, axis=0)
  d_scale = jnp.sum(t2_hat, axis=0)
  # dx = rstd * (g dy - mean_group(g dy) - x_hat * mean_group(g dy x_hat)),
  # g = gamma: an affine function of dy and x per (example, channel).
  u = _group_mean(gamma * t1, groups, count)
  v = _group_mean(gamma * t2_hat, groups, count)
  a = rstd * gamma
  e = -rstd * rstd * v
  f = rstd * (rstd * v * mean - u)
  dx = (dy * a[:, None, None, :].astype(dy.dtype)
        + x * e[:, None, None, :].astype(x.dtype)
        + f[:, None, None, :].astype(x.dtype))
  return dx, d_scale.astype(scale.dtype), d_bias.astype(scale.dtype)


group_norm.defvjp(_group_norm_fwd, _group_norm_bwd)


class GroupNorm(nn.Module):
  """Drop-in for flax.linen.GroupNorm(num_groups) on NHWC inputs: same
  parameters ('scale' ones, 'bias' zeros, [C]), same function (float32
  statistics, epsilon 1e-6), computed by `group_norm`."""
  num_groups: int = 32
  epsilon: float = 1e-6
  dtype: Dtype = None
  param_dtype: Dtype = jnp.float32

  @nn.compact
  def __call__(self, x: jnp.ndarray) -> jnp.ndarray:
    c = x.shape[-1]
    if x.ndim != 4 or c % self.num_groups:
      raise ValueError(f'GroupNorm: {self.num_groups} groups need NHWC input '
                       f'with channels divisible by them, got {x.shape}.')
    scale = self.param('scale', nn.initializers.ones_init(), (c,),
                       self.param_dtype)
    bias = self.param('bias', nn.initializers.zeros_init(), (c,),
                      self.param_dtype)
    x = x.astype(self.dtype or x.dtype)
    x, scale, bias = layers.match_varying(x, scale, bias)
    return group_norm(x, scale, bias, self.num_groups, self.epsilon)
