"""Times the fold's CNN baseline loop: as run, its host batches alone, its steps on pre-drawn batches."""
import time, sys
import numpy as np, jax, jax.numpy as jnp, optax
sys.path.insert(0, '.')
from configs import synthetic
from relgan_jax.data import loading
from relgan_jax.evaluation import baseline
from relgan_jax.model import models
config = synthetic.get_config()
ds = loading.open_prepared('data/synthetic', config)
ids = np.asarray(ds.identities)
train_idx = np.flatnonzero(ids % 2 == 0)[:896]
print(len(train_idx))
batches = baseline.augmented_batches(ds, train_idx, config, batch_size=64, seed=0)
t = time.time(); pre = [next(batches) for _ in range(14)]; print('host epoch 1 (14 batches)', time.time() - t)
t = time.time(); pre2 = [next(batches) for _ in range(56)]; print('host epochs 2-5 (56 batches)', time.time() - t)
module = baseline.build_baseline(config, 7)
variables = models.init_on_images(module, jax.random.key(0), 64)
params = variables['params']; extra = {k: v for k, v in variables.items() if k != 'params'}
opt = optax.adam(1e-3).init(params)
def run(bs):
  global params, extra, opt
  for im, lb in bs:
    params, extra, opt, loss, acc = baseline._train_step(params, extra, opt, jnp.asarray(im), jnp.asarray(lb, jnp.int32), module=module, learning_rate=1e-3)
  return float(loss)
run(pre[:2])
t = time.time(); run(pre2); print('steps only, 56', time.time() - t)
t = time.time(); run(next(batches) for _ in range(56)); print('host+steps, 56', time.time() - t)
