import time, numpy as np, jax, jax.numpy as jnp, optax
from relgan_jax.evaluation import baseline
from relgan_jax.data import loading
from relgan_jax.model import models
import importlib.util, sys
spec = importlib.util.spec_from_file_location('c', '/work/main/configs/synthetic.py'); c = importlib.util.module_from_spec(spec); spec.loader.exec_module(c)
config = c.get_config()
config.data.dir = '/work/main/data/synthetic'
ds = loading.load_dataset(config, '/tmp/x_s36', check_folds=False) if 'check_folds' in loading.load_dataset.__code__.co_varnames else loading.load_dataset(config, '/tmp/x_s36')
idx = np.arange(896)
gen = baseline.augmented_batches(ds, idx, config, batch_size=64, seed=0)
next(gen)
t = time.time()
for _ in range(28): imgs, labs = next(gen)
print('host augment per batch ms', (time.time()-t)/28*1e3)
module = baseline.build_baseline(config, 7)
v = models.init_on_images(module, jax.random.key(0), 64)
params = v['params']; extra = {k: x for k, x in v.items() if k != 'params'}
opt = optax.adam(1e-3).init(params)
im = jnp.asarray(imgs); lb = jnp.asarray(labs, jnp.int32)
for i in range(3):
  params, extra, opt, loss, acc = baseline._train_step(params, extra, opt, im, lb, module=module, learning_rate=1e-3)
jax.block_until_ready(loss)
t = time.time()
for i in range(30):
  params, extra, opt, loss, acc = baseline._train_step(params, extra, opt, im, lb, module=module, learning_rate=1e-3)
jax.block_until_ready(loss)
print('device step ms', (time.time()-t)/30*1e3)
