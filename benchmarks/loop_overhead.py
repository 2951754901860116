r"""What stage 1's input costs the training loop, measured in one process.

`bench_step` times the iteration on one fixed batch; the demo's log times the
loop. Run one after the other they disagree by as much as the box drifts
(±15 % within minutes on a 2-core VM, benchmarks/README.md). Here the ways of
feeding the same compiled `iteration` program (the state carried on) take
turns in blocks of --steps iterations, --rounds times, each round led by the
next mode, so the drift falls on every mode alike:

  step:   one fixed random batch on the device, every iteration awaited:
          bench_step's programs and batch (stage1_programs.setup);
  loop:   batches from stage 1's input pipeline
          (input_pipeline.stage1_dataset with the config's data settings),
          dispatched as train_gan does: the next iteration is queued before
          the last one's metrics are fetched (on several CPU devices each
          iteration is awaited, as train_gan awaits it there);
  loop_VARIANT: the loop with config fields changed (--variant), e.g. the
          default `computed_crops:data.keep_crops_mib=0` (every augmented
          crop computed at each draw, as before session 38).

Prints (and with --out writes) one JSON object: per mode the median ms per
iteration over its blocks, the blocks, `ratio_to_step` (the step's median
over the mode's: 1.0 = the loop at the speed of its step alone) and
`ratio_to_step_by_round` (the median over rounds of the step's block over
the mode's block of the same round, which the drift disturbs less); and each
loop's pipeline alone afterwards, CPU and wall ms per batch.

  python -m benchmarks.loop_overhead --config=configs/synthetic.py \
      --data_dir=data/synthetic_pretrain
"""

import datetime
import json
import os
import statistics
import time

from absl import flags
import jax
from ml_collections import config_flags
import numpy as np

from benchmarks import stage1_programs
from relgan_jax import cli
from relgan_jax.data import input_pipeline
from relgan_jax.data import loading
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import host_malloc
from relgan_jax.stage1 import train

config_flags.DEFINE_config_file('config', None, 'The run config.',
                                lock_config=False)
flags.DEFINE_string('data_dir', None, 'A prepared set (e.g. the demo\'s '
                    'data/synthetic_pretrain).', required=True)
flags.DEFINE_multi_string(
    'variant', ['computed_crops:data.keep_crops_mib=0'],
    'NAME:FIELD=VALUE[,FIELD=VALUE...]: a mode loop_NAME, the loop with '
    'those config fields (integers) changed.')
flags.DEFINE_integer('steps', 40, 'Iterations per block.')
flags.DEFINE_integer('rounds', 6, 'Blocks per mode.')
flags.DEFINE_string('out', None, 'Also write the JSON here (never replaced '
                    'without --overwrite).')
flags.DEFINE_bool('overwrite', False, 'Replace an existing --out.')
FLAGS = flags.FLAGS


def parse_variant(text: str, config) -> tuple[str, dict[str, int]]:
  """'NAME:data.read_threads=1,...' -> ('loop_NAME', {field: value}), each
  field one of `config`'s."""
  name, _, fields = text.partition(':')
  changes = {}
  for item in filter(None, fields.split(',')):
    field, _, value = item.partition('=')
    section, _, key = field.strip().partition('.')
    if key not in config.get(section, {}):
      raise cli.UserError(f'--variant={text!r}: the config has no field '
                          f'{field.strip()!r}.')
    try:
      changes[field.strip()] = int(value)
    except ValueError:
      changes = {}
      break
  if not name or not changes:
    raise cli.UserError(f'--variant={text!r}: write NAME:FIELD=VALUE[,...] '
                        'with integer values, e.g. '
                        'one_thread:data.read_threads=1.')
  return 'loop_' + name, changes


def _block(iteration, state, batches, awaited: bool, steps: int):
  """`steps` iterations; returns (state, seconds per iteration)."""
  pending = None
  started = time.perf_counter()
  for _ in range(steps):
    state, metrics = iteration(state, next(batches))
    if awaited:
      jax.block_until_ready(state)
    if pending is not None:
      jax.device_get(pending)
    pending = metrics
  jax.device_get(pending)
  jax.block_until_ready(state)
  return state, (time.perf_counter() - started) / steps


def main(argv):
  del argv
  if FLAGS.out:
    cli.check_new_output('out', FLAGS.out, FLAGS.overwrite)
  config = FLAGS.config
  variants = dict(parse_variant(v, config) for v in FLAGS.variant)
  if host_malloc.cpu_backend_expected():
    host_malloc.reexec_with_tuned_malloc()  # As relgan_jax.main runs.
  train.check_config(config)
  dataset = loading.open_prepared(FLAGS.data_dir, config)
  indices = np.arange(len(dataset))
  # The programs, state and random batch bench_step times (the loop's
  # programs but for the warm-up's length, a constant of the schedule).
  stage1 = stage1_programs.setup(
      config, ne=len(dataset.manifest['expression_classes']),
      ni=max(1, len(input_pipeline.identity_map(dataset, indices))))
  mesh, state, iteration = stage1.mesh, stage1.state, stage1.steps.iteration

  def stream(changes):
    c = config.copy_and_resolve_references()
    for field, value in changes.items():
      section, _, name = field.partition('.')
      c[section][name] = value
    train.check_config(c)
    return input_pipeline.stage1_dataset(dataset, indices, c, seed=c.seed)

  pipelines = {'loop': stream({}),
               **{m: stream(changes) for m, changes in variants.items()}}
  modes = ('step',) + tuple(pipelines)
  sources = {m: (gan_steps.shard_batch(b, mesh) for b in it)
             for m, it in pipelines.items()}
  sources['step'] = iter(lambda: stage1.batch, None)
  # train_gan's rule: a queued all-reduce can deadlock XLA:CPU's rendezvous.
  awaits = jax.default_backend() == 'cpu' and mesh.size > 1
  # Compile, then one pass over the data for each stream (decoding, kept
  # crops filled): what a long run's steady state sees.
  state, _ = _block(iteration, state, sources['step'], True, 2)
  epoch = len(indices) // config.train.batch_size + 1
  for mode in pipelines:
    state, _ = _block(iteration, state, sources[mode], awaits, epoch)

  blocks = {m: [] for m in modes}
  for r in range(FLAGS.rounds):
    for mode in modes[r % len(modes):] + modes[:r % len(modes)]:
      state, secs = _block(iteration, state, sources[mode],
                           mode == 'step' or awaits, FLAGS.steps)
      blocks[mode].append(1e3 * secs)
    print(f'round {r}: ' + ', '.join(f'{m} {blocks[m][-1]:.1f} ms'
                                     for m in modes), flush=True)

  alone = {}  # The pipelines alone, nothing else running.
  for mode, it in pipelines.items():
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(100):
      next(it)
    alone[mode] = {'cpu': round(10 * (time.process_time() - cpu), 2),
                   'wall': round(10 * (time.perf_counter() - wall), 2)}
  medians = {m: statistics.median(blocks[m]) for m in modes}
  result = {
      'date': datetime.datetime.now(datetime.timezone.utc).strftime(
          '%Y-%m-%d %H:%M UTC'),
      'backend': jax.default_backend(), 'devices': mesh.size,
      'data_dir': FLAGS.data_dir, 'batch': config.train.batch_size,
      'image_size': config.model.image_size, 'width': config.model.width,
      'read_threads': config.data.read_threads,
      'keep_crops_mib': config.data.keep_crops_mib,
      'xla_flags': os.environ.get('XLA_FLAGS', ''),
      'steps_per_block': FLAGS.steps, 'rounds': FLAGS.rounds,
      **{m: {'median_ms': round(medians[m], 1),
             'ratio_to_step': round(medians['step'] / medians[m], 3),
             # Each round's step block over its own block: drift cancels.
             'ratio_to_step_by_round': round(statistics.median(
                 s / b for s, b in zip(blocks['step'], blocks[m])), 3),
             'blocks_ms': [round(b, 1) for b in blocks[m]]} for m in modes},
      'variants': {m: changes for m, changes in variants.items()},
      'pipeline_alone_ms_per_batch': alone,
  }
  text = json.dumps(result, indent=1)
  print(text)
  if FLAGS.out:
    with open(FLAGS.out, 'w') as f:
      f.write(text + '\n')


if __name__ == '__main__':
  cli.absl_run('benchmarks.loop_overhead', main)
