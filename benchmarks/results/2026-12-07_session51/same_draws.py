"""The landed jitter (gan_steps._jittered) draws what session 50's screen patch drew."""
import importlib.util, os, sys
import numpy as np, jax
from jax.sharding import PartitionSpec as P
sys.path.insert(0, '.')
from relgan_jax.stage1 import gan_steps
spec = importlib.util.spec_from_file_location('screen_steps', '/tmp/wt_jit/relgan_jax/stage1/gan_steps.py')
screen = importlib.util.module_from_spec(spec); spec.loader.exec_module(screen)
os.environ['JITTER_GAIN'] = '0.15'; os.environ['JITTER_SHIFT'] = '20'
rng = np.random.default_rng(0)
batch = {k: rng.integers(0, 256, (16, 64, 64, 3), dtype=np.uint8) for k in ('x_s', 'x_t', 'x_tg')}
mesh = gan_steps.make_mesh(jax.devices()[:1])
class S:  # the two fields the jitter reads
  pass
for step in (0, 1, 777):
  state = S(); state.rng = np.array([0, 42], np.uint32); state.step = np.int32(step)
  f = lambda fn: jax.jit(jax.shard_map(lambda r, s, b: fn(type('St', (), {'rng': r, 'step': s})(), b), mesh=mesh,
      in_specs=(P(), P(), P('data')), out_specs=P('data')))(state.rng, state.step, batch)
  a = f(lambda st, b: gan_steps._jittered(st, b, (0.15, 20.0)))
  b = f(screen._photometric_jitter)
  for k in ('x_s', 'x_t', 'x_tg'):
    np.testing.assert_array_equal(np.asarray(a[k]), np.asarray(b[k]))
print('same draws at steps 0, 1, 777')
