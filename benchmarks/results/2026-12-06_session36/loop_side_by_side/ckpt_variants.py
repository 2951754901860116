"""Stage 1 of the demo for 900 iterations; variant picks what happens at 300.

  full:    checkpoint at 300 (state + data iterator), as the demo
  nodata:  checkpoint at 300 without the data iterator's state
  none:    no checkpoint before the end
  iterstate: no checkpoint; only train_iter.get_state() at 300
"""
import sys, os
from absl import app
variant, workdir = sys.argv[1], sys.argv[2]

def main(_):
  from configs import synthetic
  from relgan_jax.data import loading
  from relgan_jax.stage1 import train, checkpointing
  import numpy as np
  config = synthetic.get_config()
  config.data.dir = '/work/main/data/synthetic_pretrain'
  config.train.num_steps = 900
  config.train.image_summary_every = 0
  config.train.checkpoint_every = 900 if variant in ('none', 'iterstate') else 300
  orig = checkpointing.save
  if variant == 'nodata':
    checkpointing.save = lambda m, s, st, it, meta, **k: orig(m, s, st, None, meta, **k)
  ds = loading.load_dataset(config, workdir, check_folds=False)
  train.train_gan(config, workdir, ds, loading.select_records(ds, np.arange(len(ds)), config))
app.run(main, argv=[sys.argv[0]])
