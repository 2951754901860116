"""The layer types the REL-GAN networks are built from, and the one choice of
how they are computed.

Every convolution of the networks (DESIGN.md §2) is a 3x3, stride-1,
SAME-padded NHWC convolution with bias (`flax.linen.Conv`), the decoder's
preceded by a nearest 2x upsampling (`UpsampleConv`); the trunks pool 2x2 by
averaging (`avg_pool_2x2`) and normalise with GroupNorm (`flax.linen.GroupNorm`)
by default. The networks (relgan_jax/model/models.py) take these types as one
injected `Ops`, as flax's own examples take `conv: ModuleDef = nn.Conv`:

  PLAIN            the layers above: what the paper describes, and what runs
                   on GPU and TPU (cuDNN and the TPU emitters need no help).
  cpu_layers.OPS   the same functions with the same parameters, formulated for
                   XLA:CPU (relgan_jax/model/cpu_layers.py): several times faster
                   weight gradients, sub-pixel up-convolutions, fused pooling,
                   one-pass GroupNorm.

config.model.conv_impl picks between them ('xla' = PLAIN, 'fast' =
cpu_layers.OPS, 'auto' = by backend: `models.layer_ops`); the choice never
changes parameters or checkpoints. `on_cpu` is the one backend question the
code asks (also for the CPU compiler options of the training step and of the
initialisers, `jit_init`).
"""

import dataclasses
import functools
from typing import Any, Callable

import flax.linen as nn
import jax
from jax import lax
import jax.numpy as jnp

ModuleDef = Any

IMPLS = ('auto', 'xla', 'fast')


def check_impl(impl: str) -> None:
  """Raises ValueError unless `impl` is one of IMPLS."""
  if impl not in IMPLS:
    raise ValueError(f'conv impl must be one of {IMPLS} '
                     f'(config.model.conv_impl), got {impl!r}.')


def on_cpu(device: Any = None) -> bool:
  """Whether computation runs on XLA:CPU: on `device` (e.g. a mesh's first
  device), or by default on JAX's default backend."""
  platform = device.platform if device is not None else jax.default_backend()
  return platform == 'cpu'


# Initialisers run once, and XLA:CPU spends most of their compile time
# optimising the code of their random draws (one sampler per parameter):
# stage 1's create_state at the demo's shape compiles and runs in 15-16 s at
# the default level, 4-5 s at level 0 (benchmarks/README.md). The draws are
# the same random numbers up to the last bits of the normal samples' float
# code.
INIT_CPU_COMPILER_OPTIONS = {'xla_backend_optimization_level': 0}


def init_compiler_options(device: Any = None):
  """The compiler options of an initialiser's program (see above) on
  `device` (default: JAX's default backend): None off XLA:CPU."""
  return INIT_CPU_COMPILER_OPTIONS if on_cpu(device) else None


def jit_init(fn: Callable, **jit_kwargs) -> Callable:
  """jax.jit(fn, **jit_kwargs) for a program that runs once per network (an
  initialiser), compiled with `init_compiler_options()` of the default
  backend at the first call; one program per backend."""
  programs = {}

  @functools.wraps(fn)
  def call(*args, **kwargs):
    options = init_compiler_options()
    key = tuple(sorted((options or {}).items()))
    if key not in programs:
      programs[key] = jax.jit(fn, compiler_options=options, **jit_kwargs)
    return programs[key](*args, **kwargs)

  return call


def resolve_impl(impl: str) -> str:
  """'auto' -> 'fast' on the CPU backend, 'xla' elsewhere (measure with
  benchmarks/bench_step.py --conv_impl before changing this)."""
  check_impl(impl)
  if impl == 'auto':
    return 'fast' if on_cpu() else 'xla'
  return impl


def upsample_nearest(x: jnp.ndarray) -> jnp.ndarray:
  """Nearest-neighbour 2x upsampling of NHWC images."""
  b, h, w, c = x.shape
  x = jnp.broadcast_to(x[:, :, None, :, None, :], (b, h, 2, w, 2, c))
  return x.reshape(b, 2 * h, 2 * w, c)


def avg_pool_2x2(x: jnp.ndarray) -> jnp.ndarray:
  """2x2, stride-2 average pooling of NHWC x."""
  return nn.avg_pool(x, (2, 2), strides=(2, 2))


class UpsampleConv(nn.Conv):
  """The decoder's up block's first half: nearest 2x upsampling, then this
  convolution (the parameters of `flax.linen.Conv`)."""

  @nn.compact
  def __call__(self, inputs: jnp.ndarray) -> jnp.ndarray:
    return super().__call__(upsample_nearest(inputs))


def _varying_axes(x: jnp.ndarray) -> frozenset:
  """The shard_map axes over which x varies (empty outside shard_map)."""
  aval = jax.typeof(x)
  manual = getattr(aval, 'manual_axis_type', None)
  if manual is not None:
    return frozenset(manual.varying)
  return frozenset(getattr(aval, 'vma', ()))


def match_varying(*arrays):
  """pcast arrays to the union of their varying axes.

  Inside shard_map, a replicated kernel meets a per-device batch. Built-in
  primitives cast the kernel implicitly and their transposes sum its
  gradient over devices; a custom VJP must see operands of one type, so the
  cast (and, by autodiff, that sum) happens here, outside it.
  """
  axes = [_varying_axes(a) for a in arrays]
  union = frozenset().union(*axes)
  return tuple(a if ax == union else
               lax.pcast(a, tuple(sorted(union - ax)), to='varying')
               for a, ax in zip(arrays, axes))


@dataclasses.dataclass(frozen=True)
class Ops:
  """The layer types a network is built from.

  conv: a 3x3 SAME conv module type, called as conv(features, kernel_size,
    dtype=..., name=...).
  up_conv: the same, preceded by a nearest 2x upsampling.
  group_norm: a GroupNorm module type, called as group_norm(num_groups=...,
    dtype=..., name=...).
  avg_pool: a 2x2, stride-2 average pooling function.
  """
  conv: ModuleDef = nn.Conv
  up_conv: ModuleDef = UpsampleConv
  group_norm: ModuleDef = nn.GroupNorm
  avg_pool: Callable[[jnp.ndarray], jnp.ndarray] = avg_pool_2x2


PLAIN = Ops()
