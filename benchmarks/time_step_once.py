r"""Quick timing of one stage-1 iteration (one D step + one G step).

Compile time of the fused iteration program and its steady-state time on
random uint8 batches, printed as JSON. Not the full benchmark (see
benchmarks/bench_step.py); a sanity figure for a config.

  python benchmarks/time_step_once.py --image_size=32 --width=0.125 --batch=8
  python benchmarks/time_step_once.py --image_size=96 --width=1.0 --batch=8
"""

import json
import statistics
import time

from absl import flags
import jax

from benchmarks import stage1_programs
from configs import default
from relgan_jax import cli

_IMAGE_SIZE = flags.DEFINE_integer('image_size', 96, 'Face side.')
_WIDTH = flags.DEFINE_float('width', 1.0, 'Conv width multiplier.')
_BATCH = flags.DEFINE_integer('batch', 8, 'Global batch size.')
_STEPS = flags.DEFINE_integer('steps', 5, 'Timed iterations.')
_DTYPE = flags.DEFINE_string('dtype', 'float32', 'Compute dtype.')
_NE = flags.DEFINE_integer('ne', 6, 'Expressions.')
_NI = flags.DEFINE_integer('ni', 101, 'Identities.')


def main(argv):
  del argv
  config = default.get_config()
  config.model.image_size = _IMAGE_SIZE.value
  config.model.width = _WIDTH.value
  config.model.dtype = _DTYPE.value
  config.train.batch_size = _BATCH.value
  mesh, state, steps, batch = stage1_programs.setup(
      config, ne=_NE.value, ni=_NI.value)
  b, s = _BATCH.value, _IMAGE_SIZE.value

  # Wall and CPU (all threads of this process) seconds: on a shared machine
  # the CPU figures are the less load-dependent ones.
  t, c = time.perf_counter(), time.process_time()
  executable = steps.iteration.lower(state, batch).compile()
  compile_s = (time.perf_counter() - t, time.process_time() - c)

  times, cpu_times = [], []
  for i in range(_STEPS.value + 1):  # The first (warm-up) is not counted.
    t, c = time.perf_counter(), time.process_time()
    state, _ = executable(state, batch)
    jax.block_until_ready(state)
    if i:
      times.append(time.perf_counter() - t)
      cpu_times.append(time.process_time() - c)
  median = statistics.median(times)
  print(json.dumps({
      'image_size': s, 'width': _WIDTH.value, 'batch': b,
      'dtype': _DTYPE.value, 'devices': mesh.size,
      'backend': jax.default_backend(),
      'compile_s': round(compile_s[0], 2),
      'compile_cpu_s': round(compile_s[1], 2),
      'iteration_ms': {'median': round(1e3 * median, 1),
                       'min': round(1e3 * min(times), 1),
                       'max': round(1e3 * max(times), 1)},
      'iteration_cpu_ms_median': round(1e3 * statistics.median(cpu_times), 1),
      'iterations_per_s': round(1 / median, 3),
      'images_per_s': round(b / median, 1),
  }))


if __name__ == '__main__':
  cli.absl_run('benchmarks.time_step_once', main,
                 user_errors=(FileNotFoundError,))
