r"""Throughput of the stage-1 input pipeline (reenactment triplet batches).

Prints one JSON object: for each worker count, triplets/s and images/s (3 images
per triplet: x_s, x_t, x_tg), decoded, augmented and batched as uint8, measured
over --batches batches after --warmup batches (worker start-up excluded).

  python -m benchmarks.bench_pipeline [--data_dir=data/synthetic] \
      [--image_size=96 --batch_size=64 --workers=0,2 --batches=20]

Without --data_dir, the default synthetic set (112x112 faces) is generated
into a temporary folder first.
"""

import json
import os
import tempfile
import time

from absl import flags

from configs import default
from relgan_jax import cli
from relgan_jax.data import input_pipeline
from relgan_jax.data import records

flags.DEFINE_string('data_dir', '', 'Prepared data (default: generate synthetic).')
flags.DEFINE_integer('image_size', 96, 'Crop side S.')
flags.DEFINE_integer('batch_size', 64, 'Triplets per batch.')
flags.DEFINE_list('workers', ['0', '2'], 'mp_prefetch worker counts to time.')
flags.DEFINE_integer('batches', 20, 'Timed batches per setting.')
flags.DEFINE_integer('warmup', 2, 'Untimed batches first (worker start-up).')
FLAGS = flags.FLAGS


def measure(dataset, config, batches: int, warmup: int) -> dict:
  it = input_pipeline.stage1_dataset(dataset, range(len(dataset)), config,
                                     seed=0, shard_index=0, shard_count=1)
  try:
    start = time.perf_counter()
    for _ in range(warmup):
      next(it)
    first = time.perf_counter()
    for _ in range(batches):
      next(it)
    seconds = time.perf_counter() - first
  finally:
    if hasattr(it, 'close'):
      it.close()
  triplets = batches * config.train.batch_size / seconds
  return dict(num_workers=config.data.num_workers,
              triplets_per_s=round(triplets, 1),
              images_per_s=round(3 * triplets, 1),
              warmup_s=round(first - start, 2), timed_s=round(seconds, 2))


def main(argv):
  del argv
  data_dir = FLAGS.data_dir
  tmp = None
  if not data_dir:
    from relgan_jax.data import synthetic_set as synthetic  # pylint: disable=import-outside-toplevel
    tmp = tempfile.TemporaryDirectory()
    data_dir = os.path.join(tmp.name, 'synthetic')
    synthetic.generate(data_dir)
  dataset = records.PreparedDataset(data_dir)
  results = []
  for workers in FLAGS.workers:
    config = default.get_config()
    config.model.image_size = FLAGS.image_size
    config.train.batch_size = FLAGS.batch_size
    config.data.num_workers = int(workers)
    results.append(measure(dataset, config, FLAGS.batches, FLAGS.warmup))
  print(json.dumps(dict(
      benchmark='stage1_pipeline', data_dir=data_dir,
      stored_size=dataset.manifest['stored_size'], image_size=FLAGS.image_size,
      batch_size=FLAGS.batch_size, cpu_count=os.cpu_count(), results=results),
      indent=1))
  if tmp is not None:
    tmp.cleanup()


if __name__ == '__main__':
  cli.absl_run('benchmarks.bench_pipeline', main,
                 user_errors=(FileNotFoundError,))
