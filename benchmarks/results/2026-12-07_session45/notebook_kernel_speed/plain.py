
import time, numpy as np
from relgan_jax.stage1 import host_malloc, train
print('tuned', host_malloc.tune_in_process())
from configs import synthetic
from relgan_jax.data import loading
config = synthetic.get_config()
config.data.dir = 'data/synthetic_pretrain'
config.data.generate_if_missing = False
config.train.num_steps = 400
config.reader.epochs = 1
config.train.log_every = 50
config.train.checkpoint_every = 1000
config.train.image_summary_every = 1000
ds = loading.open_prepared('data/synthetic_pretrain', config)
idx = loading.select_records(ds, np.arange(len(ds)), config)
import shutil; shutil.rmtree('/work/exp/s45/kern/wd', ignore_errors=True)
t = time.time(); train.train_gan(config, '/work/exp/s45/kern/wd', ds, idx); print('stage1 s', round(time.time() - t))
