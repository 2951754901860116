"""AVG_K=k [AVG_EVERY=50] avg_run.py SCRIPT ARGS...: runs SCRIPT with stage-1 checkpoints read as the uniform
average of G's parameters over the k checkpoints ending at the one asked for (a cheap stand-in for an EMA of G)."""
import os, runpy, sys
import jax, numpy as np
from relgan_jax.stage1 import checkpointing
orig = checkpointing.load_state_tree
K = int(os.environ['AVG_K']); EVERY = int(os.environ.get('AVG_EVERY', '50'))
def averaged(path):
  state, meta = orig(path)
  p = str(path).rstrip('/'); step = int(os.path.basename(p)); base = os.path.dirname(p)
  trees = [state['g_params']] + [orig(os.path.join(base, str(step - i * EVERY)))[0]['g_params'] for i in range(1, K)]
  state = dict(state); state['g_params'] = jax.tree.map(lambda *a: np.mean(np.stack(a), axis=0), *trees)
  print(f'averaged G over steps {step - (K - 1) * EVERY}..{step}', file=sys.stderr)
  return state, meta
checkpointing.load_state_tree = averaged
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
