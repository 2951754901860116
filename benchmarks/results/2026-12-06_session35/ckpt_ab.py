"""Does an orbax save leave the stage-1 step slower? Same process, same programs."""
import statistics, sys, time
import jax
from benchmarks import stage1_programs
from configs import synthetic
from relgan_jax.stage1 import checkpointing

mode = sys.argv[1]  # save | nosave | save_wait | device_get
config = synthetic.get_config()
s = stage1_programs.setup(config, ne=7, ni=64)
state, it = s.state, s.steps.iteration

def phase(n):
  global state
  ts = []
  for _ in range(n):
    t = time.perf_counter()
    state, m = it(state, s.batch)
    jax.block_until_ready(state)
    ts.append(time.perf_counter() - t)
  return statistics.median(ts) * 1000

phase(5)
out = []
for r in range(3):
  a = phase(40)
  if mode.startswith('save'):
    mgr = checkpointing.make_manager(f'/tmp/s35_ckab_{mode}_{r}')
    checkpointing.save(mgr, 1, state, None, {'num_expressions': 7, 'num_identities': 64})
    if mode == 'save_wait':
      mgr.wait_until_finished()
  elif mode == 'device_get':
    host = jax.device_get(state)
  b = phase(40)
  out.append((round(a, 1), round(b, 1)))
print(mode, out, flush=True)
