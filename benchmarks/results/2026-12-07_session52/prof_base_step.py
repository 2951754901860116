"""Op profile of the fold's CNN-baseline train step (B64 64² width ¼)."""
import sys, os, time, collections
import numpy as np, jax, jax.numpy as jnp, optax
sys.path.insert(0, '.')
from absl import flags
from benchmarks import profile_step as ps
from configs import synthetic
from relgan_jax.evaluation import baseline
from relgan_jax.model import models
flags.FLAGS(['x', '--runs=10', '--top=25'])
impl = sys.argv[1] if len(sys.argv) > 1 else 'auto'
config = synthetic.get_config(); config.model.conv_impl = impl
module = baseline.build_baseline(config, 7)
variables = models.init_on_images(module, jax.random.key(0), 64)
params = variables['params']; extra = {k: v for k, v in variables.items() if k != 'params'}
opt = optax.adam(1e-3).init(params)
rng = np.random.default_rng(0)
im = jnp.asarray(rng.integers(0, 256, (64, 64, 64, 3), dtype=np.uint8)); lb = jnp.asarray(rng.integers(0, 7, 64).astype(np.int32))
lowered = baseline._train_step.lower(params, extra, opt, im, lb, module=module, learning_rate=1e-3)
compiled = lowered.compile()
state = (params, extra, opt)
def f(state, batch):
  p, e, o, l, a = compiled(*state, *batch); return (p, e, o), l
for _ in range(3): state, _ = f(state, (im, lb))
d = f'/work/exp/s52/trace_base_{impl}'
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, 'base.hlo.txt'), 'w') as fh: fh.write(compiled.as_text())
jax.profiler.start_trace(d); t0 = time.perf_counter()
for _ in range(10):
  state, l = f(state, (im, lb)); jax.block_until_ready(l)
print('wall ms', (time.perf_counter()-t0)*100)
jax.profiler.stop_trace()
ps._report('base', d)
