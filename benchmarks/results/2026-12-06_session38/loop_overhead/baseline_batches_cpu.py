import sys, time
import numpy as np
sys.argv = sys.argv[:1]
from configs import synthetic
from relgan_jax.data import loading, folds
from relgan_jax.evaluation import baseline
config = synthetic.get_config()
ds = loading.open_prepared('data/synthetic', config)
train, _ = folds.split_indices(ds, 0)
train = loading.select_records(ds, train, config)
for mib in (0, 512):
  config.data.keep_crops_mib = mib
  it = baseline.augmented_batches(ds, train, config, batch_size=64, seed=0)
  t = time.process_time()
  for _ in range(140): next(it)   # 10 epochs
  print('keep_crops_mib', mib, 'ms per batch of 64 (10 epochs)', round((time.process_time() - t) / 140 * 1e3, 2), 'records', len(train))
