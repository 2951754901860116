r"""Where the stage-1 step's time goes, per op, on XLA:CPU (or any backend).

Builds the update program(s) exactly as benchmarks/bench_step.py does (the
fused iteration, or with --program=separate the D and G step programs),
traces --runs executions of each with the JAX profiler, and prints for each
program the op time per run grouped by kind (YNNPACK convolutions, matrix
products and reductions; XLA's own fusions by name), then the --top ops with
the layer they belong to (from the compiled HLO's op_name metadata).

  python -m benchmarks.profile_step --batch=16 --image_size=96 --width=1.0
  python -m benchmarks.profile_step --batch=8 --image_size=32 --width=0.25 \
      --conv_impl=xla
  python -m benchmarks.profile_step --read_trace=DIR --runs=3  # a saved trace

On a GPU each kernel counts under the HLO instruction it runs; kernels that
XLA replays inside a CUDA graph carry the graph's name instead, and are
matched to their fusion by kernel name. Library kernels (cuDNN's
convolutions) have no HLO instruction of their own and are grouped by kind.
--trace_dir keeps each program's trace and optimised HLO, so that
--read_trace can print the same report on another machine.

Caveats: ops run concurrently on the executor's threads, so the times add up
to more than the wall time; XLA's own (Eigen) matrix products run on helper
threads and show only their dispatch; under load every number stretches.
"""

import collections
import glob
import os
import re
import tempfile
import time

from absl import flags
import jax
from jax._src.lib import _profile_data  # The profiler's XSpace reader.

from benchmarks import bench_step  # Also defines the shared flags.
from benchmarks import stage1_programs
from relgan_jax import cli
from relgan_jax.stage1 import host_malloc

flags.DEFINE_integer('runs', 2, 'Traced executions of each step program.')
flags.DEFINE_integer('top', 25, 'Ops listed per program.')
flags.DEFINE_string('trace_dir', '', 'Keep the traces here (default: tmp).')
flags.DEFINE_string('read_trace', '', 'Print the report of a trace kept by '
                    '--trace_dir (runs as traced) instead of running.')
FLAGS = flags.FLAGS

_INSTRUCTION = re.compile(
    r'^\s*(?:ROOT )?%?([\w.\-]+) = (\((?:[^()]|\([^()]*\))*\)|\S+) '
    r'([\w\-]+)\((.*)$', re.M)  # The shape: one array or a tuple.
_COMPUTATION = re.compile(r'^%?([\w.\-]+) \(.*?\) -> .*? \{\n(.*?)\n\}',
                          re.M | re.S)


def _hlo_index(hlo: str):
  """instruction name -> (shape, op_name metadata, kind of fused work)."""
  bodies = {m.group(1): m.group(2) for m in _COMPUTATION.finditer(hlo)}
  index = {}
  for m in _INSTRUCTION.finditer(hlo):
    name, shape, opcode, rest = m.groups()
    op_name = re.search(r'op_name="([^"]+)"', rest)
    calls = re.search(r'calls=%?([\w.\-]+)', rest)
    body = bodies.get(calls.group(1), '') if calls else ''
    kind = opcode
    if '__ynn_fusion' in rest:
      kind = ('ynn:conv' if ' convolution(' in body else
              'ynn:dot' if ' dot(' in body else
              'ynn:reduce' if ' reduce(' in body or 'reduce-window(' in body
              else 'ynn:other')
    elif opcode == 'fusion':
      kind = name.rsplit('.', 1)[0]
    index.setdefault(name, (shape, op_name.group(1) if op_name else '', kind))
  return index


def _library_kind(kernel: str) -> str:
  """A kernel with no HLO instruction of its own, by what it does."""
  if 'xmma' in kernel or 'cudnn' in kernel or 'cutlass' in kernel:
    for part in ('wgrad', 'dgrad', 'fprop'):
      if part in kernel:
        return f'lib:conv {part}'
    return 'lib:conv other'
  if 'gemm' in kernel or 'nvjet' in kernel or 'cublas' in kernel:
    return 'lib:gemm'
  if kernel.startswith(('Memset', 'memcpy')):
    return 'lib:memset/memcpy'
  return 'lib:other'


def _kernel_op(kernel: str, hlo_op: str, index: dict) -> str:
  """The HLO instruction a GPU kernel runs, else its library kind. Inside a
  CUDA graph `hlo_op` names the graph; XLA names each fusion's kernel after
  the fusion, '.' written '_' (`loop_add_fusion.1` runs `loop_add_fusion_1`)."""
  for op in (hlo_op, re.sub(r'_(\d+)$', r'.\1', kernel), kernel):
    if op in index:
      return op
  return _library_kind(kernel)


def _op_times(trace_dir: str, runs: int, index: dict):
  """(op name -> ms per run, device-busy ms per run or None) from the XSpace
  the profiler wrote. On a GPU only the device's kernel events count, each
  under the HLO instruction it runs (its `hlo_op` stat; inside a CUDA graph,
  the fusion its kernel is named after; a library kernel under its kind),
  and the busy time is the union of their intervals: the wall time minus
  the gaps in which the GPU waited for the host."""
  paths = sorted(glob.glob(os.path.join(trace_dir, '**', '*.xplane.pb'),
                           recursive=True))
  if not paths:
    raise FileNotFoundError(f'No *.xplane.pb trace under {trace_dir}.')
  path = paths[-1]
  planes = list(_profile_data.ProfileData.from_file(path).planes)
  gpu = [p for p in planes if p.name.startswith('/device:GPU')]
  times = collections.defaultdict(float)
  intervals = []
  for plane in gpu or planes:
    for line in plane.lines:
      for event in line.events:
        if event.name.startswith(('ThunkExecutor', 'end: ')):
          continue
        op = dict(event.stats).get('hlo_op', event.name)
        if gpu:
          op = _kernel_op(event.name, op, index)
        times[op] += event.duration_ns / 1e6 / runs
        intervals.append((event.start_ns, event.end_ns))
  if not gpu:
    return times, None
  busy, end = 0, None
  for start, stop in sorted(intervals):
    if end is None or start > end:
      busy, end = busy + stop - start, stop
    elif stop > end:
      busy, end = busy + stop - end, stop
  return times, busy / 1e6 / runs


def _trace(name, compiled, state, batch, trace_dir):
  """Runs `compiled` --runs times under the profiler; keeps its HLO."""
  os.makedirs(trace_dir, exist_ok=True)
  with open(os.path.join(trace_dir, f'{name}.hlo.txt'), 'w') as f:
    f.write(compiled.as_text())  # For reading the trace elsewhere.
  jax.profiler.start_trace(trace_dir)
  t0 = time.perf_counter()
  for _ in range(FLAGS.runs):
    state, _ = compiled(state, batch)
    jax.block_until_ready(state)
  wall_ms = (time.perf_counter() - t0) * 1e3 / FLAGS.runs
  jax.profiler.stop_trace()
  return state, wall_ms


def _report(name, trace_dir, wall_ms=None):
  with open(os.path.join(trace_dir, f'{name}.hlo.txt')) as f:
    index = _hlo_index(f.read())
  times, busy_ms = _op_times(trace_dir, FLAGS.runs, index)
  if busy_ms is None:  # On a CPU, the host's own events are not ops.
    times = {op: ms for op, ms in times.items() if op in index}
  else:
    wall = f'{wall_ms:.1f} ms wall per run (traced), ' if wall_ms else ''
    print(f'\n{name}: {wall}device busy {busy_ms:.1f} ms')
  kinds = collections.defaultdict(float)
  for op, ms in times.items():
    kinds[index[op][2] if op in index else op] += ms
  total = sum(times.values())
  print(f'\n== {name}: {total:.1f} ms of op time per run ==')
  for kind, ms in sorted(kinds.items(), key=lambda kv: -kv[1])[:15]:
    print(f'  {ms:9.1f} ms  {100 * ms / total:5.1f}%  {kind}')
  print(f'  -- top {FLAGS.top} ops --')
  ops = sorted((kv for kv in times.items() if kv[0] in index),
               key=lambda kv: -kv[1])
  for op, ms in ops[:FLAGS.top]:
    shape, op_name, kind = index[op]
    layer = '/'.join(op_name.split('/')[1:])[-70:]
    print(f'  {ms:9.1f} ms  {kind:24.24s} {shape[:32]:32.32s} {layer}')


def read_traces(root: str) -> None:
  """Prints the report of every program traced under root (--trace_dir)."""
  hlos = sorted(glob.glob(os.path.join(root, '*', '*.hlo.txt')))
  if not hlos:
    raise FileNotFoundError(
        f'--read_trace={root}: no PROGRAM/PROGRAM.hlo.txt there; keep a trace '
        'with --trace_dir first.')
  for hlo in hlos:
    _report(os.path.basename(hlo)[:-len('.hlo.txt')], os.path.dirname(hlo))


def main(argv):
  del argv
  if FLAGS.read_trace:
    read_traces(FLAGS.read_trace)
    return
  if FLAGS.malloc_tuning and jax.default_backend() == 'cpu':
    host_malloc.reexec_with_tuned_malloc()
  config = bench_step.config_from_flags()
  devices = bench_step.flag_devices()
  stage1 = stage1_programs.setup(config, ne=FLAGS.ne, ni=FLAGS.ni,
                                 devices=devices)
  state, batch = stage1.state, stage1.batch
  b, s = FLAGS.batch, FLAGS.image_size
  names = stage1_programs.PROGRAMS[FLAGS.program]
  executables = stage1_programs.compile_programs(stage1, FLAGS.program)
  for executable in executables:  # Warm up.
    state, _ = executable(state, batch)
  jax.block_until_ready(state)
  print(f'B{b} {s}x{s} width {FLAGS.width} {FLAGS.dtype} conv_impl='
        f'{config.model.conv_impl} program={FLAGS.program} on '
        f'{devices[0].device_kind}, load average {os.getloadavg()[0]:.1f}')
  root = FLAGS.trace_dir or tempfile.mkdtemp(prefix='profile_step_')
  for name, compiled in zip(names, executables):
    trace_dir = os.path.join(root, name)
    state, wall_ms = _trace(name, compiled, state, batch, trace_dir)
    _report(name, trace_dir, wall_ms)


if __name__ == '__main__':
  cli.absl_run('benchmarks.profile_step', main,
                 user_errors=(FileNotFoundError,))
