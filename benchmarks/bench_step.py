r"""Speed of the stage-1 iteration (a D update + a G update), as trained.

Builds G and D from configs/default.py with the flags' overrides, the jitted,
mesh-mapped update program(s) of relgan_jax/stage1/gan_steps.py (state donated: the
fused `iteration` that training runs, or with --program=separate a D-step
program then a G-step program), feeds them one random uint8 batch, and prints
one JSON object:

  images_per_s, step_ms {median, min, max} (one iteration), compile_s, FLOPs
  per iteration (XLA's cost analysis of the compiled program(s), and the
  analytic count of DESIGN.md §2,
  B * (4 * G_fwd + 12 * D_fwd)), achieved FLOP/s (analytic FLOPs / median
  step time), and
  * on CPU: this machine's float32 matrix-multiply FLOP/s, measured in the same
    run between the timed iterations (so that the ratio stays meaningful on a
    shared, noisy machine), and `ratio_to_matmul` = achieved / matmul;
  * on GPU/TPU: MFU = achieved / (peak of the device kind x devices), from the
    PEAK_TFLOPS table below.

Examples:

  python -m benchmarks.bench_step --batch=16 --image_size=96 --width=1.0
  python -m benchmarks.bench_step --batch=64 --image_size=64 --width=0.5 \
      --conv_impl=xla --nomalloc_tuning     # the plain formulation ("before")
  python -m benchmarks.bench_step --batch=256 --dtype=bfloat16   # on a GPU

Why 4 * G_fwd + 12 * D_fwd per image: the D step runs G forward once and D
forward + backward (~3x forward) on [x_bar; x_s; x_t]; the G step runs G
forward + backward (3x) and D forward + backward to its input (~3x) on x_bar.
Counted are the multiply-adds (x2) of convolutions and dense layers; the up
convolutions are counted as written in DESIGN.md §2 (nearest upsampling, then
a 3x3 convolution at the high resolution), whichever formulation computes
them. XLA's count is of the program actually run: the 'fast' impl's sub-pixel
up convolutions do fewer multiply-adds (16/36 of them).
"""

import datetime
import json
import os
import platform
import statistics
import time

from absl import flags
import jax
import jax.numpy as jnp

from benchmarks import stage1_programs
from configs import default
from relgan_jax import cli
from relgan_jax.model import layers
from relgan_jax.stage1 import host_malloc

flags.DEFINE_integer('batch', 16, 'Global batch size B.')
flags.DEFINE_integer('image_size', 96, 'Face side S (multiple of 32).')
flags.DEFINE_float('width', 1.0, 'Conv width multiplier.')
flags.DEFINE_enum('dtype', 'float32', ['float32', 'bfloat16'],
                  'Compute dtype (parameters stay float32).')
flags.DEFINE_enum('conv_impl', None, list(layers.IMPLS),
                  'Convolution implementation (default: the config default).')
flags.DEFINE_string('norm', None, "Generator norm (default: the config's).")
flags.DEFINE_float('d_width', None,
                   "D's conv width multiplier (default: the config's, which "
                   'follows --width; configs/synthetic.py uses 0.5).')
flags.DEFINE_float('gde_width', None,
                   "Gde's conv width multiplier (default: the config's, which "
                   'follows --width).')
flags.DEFINE_string('d_norm', None, "D's norm (default: the config's; "
                    "configs/synthetic.py uses 'group').")
flags.DEFINE_enum('program', 'iteration', ['iteration', 'separate'],
                  "'iteration': the fused D + G program that training runs; "
                  "'separate': a D step program, then a G step program (G's "
                  'forward pass run twice; the formulation before the fused '
                  'iteration).')
flags.DEFINE_float('pixel_change_weight', None,
                   "The pixel term's change weighting alpha (default: the "
                   "config's, 0; configs/synthetic.py uses 16).")
flags.DEFINE_float('lambda_fe_contrast', None,
                  "λ5, the expression-contrast term's weight (default: the "
                  "config's; 0 times the paper's L_G alone).")
flags.DEFINE_float('lambda_reader', None,
                   "λ6, the expression reader's term (default: the config's, "
                   '0 = none; configs/synthetic.py uses 1000). The reader is '
                   "untrained and its FLOPs are not in the analytic count.")
flags.DEFINE_float('pixel_change_saliency', None,
                   "σ, the share of the change map the reader's saliency "
                   "shapes (default: the config's, 0; configs/synthetic.py "
                   'uses 0.5 with --pixel_change_weight and --lambda_reader).')
flags.DEFINE_float('g_ema_decay', None,
                   "G's moving average (default: the config's, 0 = none; "
                   'configs/synthetic.py uses 0.999).')
flags.DEFINE_integer('steps', 5, 'Timed iterations (after one warm-up).')
flags.DEFINE_integer('num_devices', 0, 'Devices in the data mesh (0 = all).')
flags.DEFINE_integer('ne', 6, 'Expression classes Ne.')
flags.DEFINE_integer('ni', 101, 'Identity classes Ni (BU-4DFE: 101).')
flags.DEFINE_integer('matmul_size', 2048,
                     'Side of the square float32 matmul timed as the CPU '
                     'reference.')
flags.DEFINE_bool('malloc_tuning', True,
                  'On Linux CPU, re-run with relgan_jax.stage1.host_malloc.TUNABLES.')
flags.DEFINE_string('out', '', 'Also write the JSON to this file (never '
                    'replaced without --overwrite).')
flags.DEFINE_bool('overwrite', False, 'Replace --out if it exists.')
FLAGS = flags.FLAGS

# Dense peak TFLOP/s per chip (vendor figures, no sparsity). float32 on
# NVIDIA means TF32 tensor cores, which XLA uses for float32 dots and convs at
# JAX's default precision.
PEAK_TFLOPS = {
    'H200': {'bfloat16': 989.4, 'float32': 494.7},
    'H100 SXM': {'bfloat16': 989.4, 'float32': 494.7},
    'H100 PCIe': {'bfloat16': 756.0, 'float32': 378.0},
    'H100': {'bfloat16': 989.4, 'float32': 494.7},
    'A100': {'bfloat16': 312.0, 'float32': 156.0},
    'TPU v4': {'bfloat16': 275.0, 'float32': 275.0},
    'TPU v5 lite': {'bfloat16': 197.0, 'float32': 197.0},
    'TPU v5e': {'bfloat16': 197.0, 'float32': 197.0},
    'TPU v5p': {'bfloat16': 459.0, 'float32': 459.0},
    'TPU v5': {'bfloat16': 459.0, 'float32': 459.0},
    'TPU v6 lite': {'bfloat16': 918.0, 'float32': 918.0},
    'TPU v6e': {'bfloat16': 918.0, 'float32': 918.0},
}


def peak_tflops(device_kind: str, dtype: str):
  """The PEAK_TFLOPS entry whose key occurs in device_kind (longest first)."""
  kind = device_kind.replace('-', ' ')
  for key in sorted(PEAK_TFLOPS, key=len, reverse=True):
    if all(part in kind for part in key.split()):
      return key, PEAK_TFLOPS[key][dtype]
  return None, None


# --- Measurements ------------------------------------------------------------


def _cost_flops(compiled) -> float:
  analysis = compiled.cost_analysis()
  if isinstance(analysis, (list, tuple)):  # Older JAX: one dict per program.
    analysis = analysis[0] if analysis else {}
  return float((analysis or {}).get('flops', float('nan')))


def _matmul_timer(size: int, dtype):
  a = jnp.ones((size, size), dtype)
  f = jax.jit(lambda a, b: jnp.dot(a, b, preferred_element_type=jnp.float32))
  jax.block_until_ready(f(a, a))

  def flops_per_s():
    t = time.perf_counter()
    jax.block_until_ready(f(a, a))
    return 2 * size ** 3 / (time.perf_counter() - t)
  return flops_per_s


def _cpu_model() -> str:
  try:
    with open('/proc/cpuinfo') as f:
      for line in f:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    pass
  return platform.processor()


def config_from_flags():
  """The default config with this script's --image_size, --width, --dtype,
  --conv_impl, --norm, --d_width, --gde_width, --d_norm, --lambda_fe_contrast,
  --pixel_change_weight, --lambda_reader, --pixel_change_saliency,
  --g_ema_decay and --batch
  (shared with profile_step.py)."""
  config = default.get_config()
  config.model.image_size = FLAGS.image_size
  config.model.width = FLAGS.width
  config.model.dtype = FLAGS.dtype
  if FLAGS.conv_impl:
    config.model.conv_impl = FLAGS.conv_impl
  if FLAGS.norm:
    config.model.norm = FLAGS.norm
  if FLAGS.d_width is not None:
    config.model.d_width = FLAGS.d_width
  if FLAGS.gde_width is not None:
    config.model.gde_width = FLAGS.gde_width
  if FLAGS.d_norm:
    config.model.d_norm = FLAGS.d_norm
  if FLAGS.lambda_fe_contrast is not None:
    config.loss.lambda_fe_contrast = FLAGS.lambda_fe_contrast
  if FLAGS.pixel_change_weight is not None:
    config.loss.pixel_change_weight = FLAGS.pixel_change_weight
  if FLAGS.lambda_reader is not None:
    config.loss.lambda_reader = FLAGS.lambda_reader
  if FLAGS.pixel_change_saliency is not None:
    config.loss.pixel_change_saliency = FLAGS.pixel_change_saliency
  if FLAGS.g_ema_decay is not None:
    config.train.g_ema_decay = FLAGS.g_ema_decay
  config.train.batch_size = FLAGS.batch
  return config


def flag_devices():
  """The first --num_devices devices (all when 0)."""
  return jax.devices()[:FLAGS.num_devices or None]


def main(argv):
  del argv
  if FLAGS.out:  # Before the work, not after it.
    cli.check_new_output('out', FLAGS.out, FLAGS.overwrite)
  if FLAGS.malloc_tuning and jax.default_backend() == 'cpu':
    host_malloc.reexec_with_tuned_malloc()  # Returns if already tuned.
  config = config_from_flags()
  devices = flag_devices()
  stage1 = stage1_programs.setup(config, ne=FLAGS.ne, ni=FLAGS.ni,
                                 devices=devices)
  mesh, state, batch = stage1.mesh, stage1.state, stage1.batch
  b, s = FLAGS.batch, FLAGS.image_size

  t = time.perf_counter()
  executables = stage1_programs.compile_programs(stage1, FLAGS.program)
  compile_s = time.perf_counter() - t
  xla_flops = sum(_cost_flops(e) for e in executables)

  on_cpu = jax.default_backend() == 'cpu'
  matmul = _matmul_timer(FLAGS.matmul_size, jnp.float32) if on_cpu else None
  totals, matmul_flops = [], []  # Seconds per iteration; matmul FLOP/s.
  for i in range(FLAGS.steps + 1):  # Iteration 0 is the warm-up.
    if matmul is not None:
      matmul_flops.append(matmul())
    t0 = time.perf_counter()
    for executable in executables:
      state, _ = executable(state, batch)
      jax.block_until_ready(state)
    if i:
      totals.append(time.perf_counter() - t0)
  if matmul is not None:
    matmul_flops.append(matmul())

  median = statistics.median(totals)
  g_fwd, d_fwd = stage1_programs.analytic_forward_flops(
      s, FLAGS.width, FLAGS.ne, FLAGS.ni, config.model.f_e_dim,
      config.model.f_i_dim, d_width=config.model.d_width,
      gde_width=config.model.gde_width)
  # With the expression-contrast term G's step also runs Ges forward and
  # backward (~3x forward) on x_tg.
  ges_fwd = (stage1_programs.analytic_encoder_flops(
      s, FLAGS.width, config.model.f_e_dim)
             if config.loss.lambda_fe_contrast > 0 else 0)
  analytic = b * (4 * g_fwd + 12 * d_fwd + 3 * ges_fwd)
  achieved = analytic / median
  ms = lambda x: round(1e3 * x, 1)
  result = {
      'date': datetime.datetime.now(datetime.timezone.utc).strftime(
          '%Y-%m-%d %H:%M UTC'),
      'device': (f'{_cpu_model()}, {os.cpu_count()} cores' if on_cpu
                 else devices[0].device_kind),
      'backend': jax.default_backend(), 'devices': mesh.size,
      'jax': jax.__version__,
      'batch': b, 'image_size': s, 'width': FLAGS.width,
      'dtype': FLAGS.dtype, 'conv_impl': config.model.conv_impl,
      'norm': config.model.norm, 'd_width': config.model.d_width,
      'gde_width': config.model.gde_width,
      'd_norm': config.model.d_norm,
      'lambda_fe_contrast': config.loss.lambda_fe_contrast,
      'pixel_change_weight': config.loss.pixel_change_weight,
      'lambda_reader': config.loss.lambda_reader,
      'pixel_change_saliency': config.loss.pixel_change_saliency,
      'g_ema_decay': config.train.g_ema_decay,
      'xla_flags': os.environ.get('XLA_FLAGS', ''),
      'malloc_tuned': host_malloc.is_tuned(),
      'images_per_s': round(b / median, 2),
      'program': FLAGS.program,
      'step_ms': {'median': ms(median), 'min': ms(min(totals)),
                  'max': ms(max(totals))},
      'compile_s': round(compile_s, 1),
      'flops_per_iteration': {'xla_cost_analysis': xla_flops,
                              'analytic': analytic,
                              'analytic_g_fwd_per_image': g_fwd,
                              'analytic_d_fwd_per_image': d_fwd,
                              'analytic_contrast_ges_fwd_per_image': ges_fwd},
      'achieved_tflops': round(achieved / 1e12, 4),
      'achieved_tflops_xla_count': round(xla_flops / median / 1e12, 4),
  }
  if on_cpu:
    mm = statistics.median(matmul_flops)
    result.update({
        'matmul_f32_tflops': round(mm / 1e12, 4),
        'matmul_f32_tflops_range': [round(min(matmul_flops) / 1e12, 4),
                                    round(max(matmul_flops) / 1e12, 4)],
        'ratio_to_matmul': round(achieved / mm, 3),
        'load_average': [round(x, 2) for x in os.getloadavg()],
    })
  else:
    key, peak = peak_tflops(devices[0].device_kind, FLAGS.dtype)
    result.update({'peak_tflops_per_device': peak, 'peak_entry': key,
                   'mfu': (round(achieved / (peak * 1e12 * mesh.size), 4)
                           if peak else None)})
  text = json.dumps(result)
  print(text)
  if FLAGS.out:
    with open(FLAGS.out, 'w') as f:
      f.write(text + '\n')


if __name__ == '__main__':
  cli.absl_run('benchmarks.bench_step', main,
                 user_errors=(FileNotFoundError,))
