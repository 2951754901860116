"""Session-24 experiment: a stage-1 benchmark with the edge layers (3 input
or 3 output channels) as matrix products (the CPU formulation's code), every
other convolution plain (cuDNN on a GPU).

  EDGE=both|in|out|0 [EDGE_MODULE=...] python edge_bench.py FLAGS...

EDGE_MODULE (default benchmarks.bench_step; e.g. benchmarks.profile_step) runs
with models.layer_ops patched: 'in' takes the layers with <= 4 input channels
(im2col, then one product), 'out' those with <= 4 outputs (one product to
every tap, then a shifted sum), 'both' both, '0' none (the A of an A/B).
Run from the repository root with it and this folder on PYTHONPATH.
Session 24 (H200, B256 bf16 96x96 width 1): 'both' 25.7 ms, '0' 24.6 ms.
"""
import os
import runpy

from relgan_jax.model import cpu_layers, layers, models

MODE = os.environ.get('EDGE', 'both')
if MODE == '1':
  MODE = 'both'  # Session 24's spelling.


class EdgeConv(cpu_layers.FastConv):
  def _convolve(self, x, kernel):
    padding = cpu_layers.same_padding(kernel.shape)
    cin, cout = kernel.shape[2:]
    if cin <= 4 and MODE in ('in', 'both'):
      mode = cpu_layers._IM2COL
    elif cout <= 4 and MODE in ('out', 'both'):
      mode = cpu_layers._OUTPUT_SIDE
    else:
      return cpu_layers.conv_xla(x, kernel, padding)
    x, kernel = layers.match_varying(x, kernel)
    return cpu_layers._conv_mm(x, kernel, padding, mode)


if MODE != '0':
  models.layer_ops = lambda impl: layers.Ops(conv=EdgeConv)
if __name__ == '__main__':
  # From the environment, not argv: on a CPU the benchmarks re-execute
  # themselves with sys.argv (relgan_jax/stage1/host_malloc.py).
  runpy.run_module(os.environ.get('EDGE_MODULE', 'benchmarks.bench_step'),
                   run_name='__main__')
