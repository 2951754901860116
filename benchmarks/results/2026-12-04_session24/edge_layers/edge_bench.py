"""Session-24 experiment: bench_step with the edge layers (3 input or 3
output channels) as matrix products, every other conv plain (cuDNN).
EDGE=0 runs the plain layers (the A of the A/B)."""
import os, runpy
from relgan_jax.model import cpu_layers, layers, models


class EdgeConv(cpu_layers.FastConv):
  def _convolve(self, x, kernel):
    padding = cpu_layers.same_padding(kernel.shape)
    cin, cout = kernel.shape[2:]
    if os.environ.get("EDGE_SAY"): print("edge conv", x.shape, kernel.shape)
    if cin <= 4 or cout <= 4:
      mode = cpu_layers._IM2COL if cin <= 4 else cpu_layers._OUTPUT_SIDE
      x, kernel = layers.match_varying(x, kernel)
      return cpu_layers._conv_mm(x, kernel, padding, mode)
    return cpu_layers.conv_xla(x, kernel, padding)


EDGE = layers.Ops(conv=EdgeConv)
if os.environ.get('EDGE', '1') == '1':
  models.layer_ops = lambda impl: EDGE
if __name__ == '__main__':
  runpy.run_module('benchmarks.bench_step', run_name='__main__')
