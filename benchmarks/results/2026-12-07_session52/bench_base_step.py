"""Times the fold's CNN-baseline train step on fixed batches (B64, demo config)."""
import sys, time
import numpy as np, jax, jax.numpy as jnp, optax
sys.path.insert(0, '.')
from configs import synthetic
from relgan_jax.evaluation import baseline
from relgan_jax.model import models
impl = sys.argv[1] if len(sys.argv) > 1 else 'auto'
config = synthetic.get_config()
config.model.conv_impl = impl
print('norm', config.model.norm, 'width', config.model.width, 'impl', impl)
module = baseline.build_baseline(config, 7)
variables = models.init_on_images(module, jax.random.key(0), 64)
params = variables['params']; extra = {k: v for k, v in variables.items() if k != 'params'}
opt = optax.adam(1e-3).init(params)
rng = np.random.default_rng(0)
ims = [rng.integers(0, 256, (64, 64, 64, 3), dtype=np.uint8) for _ in range(4)]
lbs = [rng.integers(0, 7, 64).astype(np.int32) for _ in range(4)]
def step(i):
  global params, extra, opt
  params, extra, opt, loss, acc = baseline._train_step(params, extra, opt, jnp.asarray(ims[i % 4]), jnp.asarray(lbs[i % 4]), module=module, learning_rate=1e-3)
  return loss
t = time.time(); step(0).block_until_ready(); print('compile+1', time.time() - t)
for r in range(3):
  t = time.time()
  for i in range(20): l = step(i)
  l.block_until_ready(); print(f'{(time.time()-t)/20*1000:.1f} ms/step')
