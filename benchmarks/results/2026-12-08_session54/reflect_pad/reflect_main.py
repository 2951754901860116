"""An exploratory screen, not in the package: `python -m relgan_jax.main` with
every convolution of G (Ges, Get, Gde) reading a reflection-padded input
instead of a zero-padded one, so that no layer of G can tell the border from
the inside. CPU only (config.model.conv_impl 'fast'): a 3x3 conv pads its input
by 1 px (reflect) and crops the 1-px ring that its own zero padding touched;
an up-conv pads its low-resolution input by 1 px (reflect), upsamples and
convolves as before (sub-pixel), and crops 2 px. Parameters are unchanged.
REFLECT_PARTS=gde: the decoder Gde alone (Ges and Get keep zero padding).
Run from the repository root with the tuned malloc already set:
  GLIBC_TUNABLES=... PYTHONPATH=. python reflect_main.py --config=configs/synthetic.py --workdir=..."""
import dataclasses
import os

import jax.numpy as jnp

from relgan_jax import main
from relgan_jax.model import cpu_layers, models

_PAD = ((0, 0), (1, 1), (1, 1), (0, 0))


class ReflectConv(cpu_layers.FastConv):
  def _convolve(self, x, kernel):
    return super()._convolve(jnp.pad(x, _PAD, mode='reflect'), kernel)[:, 1:-1, 1:-1]


class ReflectUpsampleConv(cpu_layers.FastUpsampleConv):
  def _convolve(self, x, kernel):
    return super()._convolve(jnp.pad(x, _PAD, mode='reflect'), kernel)[:, 2:-2, 2:-2]


_build = models.build_generator


def build_generator(config, bn_axis_name=None):
  g = _build(config, bn_axis_name)
  assert g.ops.conv is cpu_layers.FastConv, 'the screen runs the CPU layers'
  return g.clone(ops=dataclasses.replace(g.ops, conv=ReflectConv,
                                         up_conv=ReflectUpsampleConv))


class ReflectGde(models.Gde):
  """Gde alone with the reflecting layers (REFLECT_PARTS=gde)."""

  def __post_init__(self):
    object.__setattr__(self, 'ops', dataclasses.replace(
        self.ops, conv=ReflectConv, up_conv=ReflectUpsampleConv))
    super().__post_init__()


if os.environ.get('REFLECT_PARTS', 'all') == 'gde':
  models.Gde = ReflectGde
else:
  models.build_generator = build_generator

if __name__ == '__main__':
  main.app.run(main.main, flags_parser=main.parse_flags)
