"""Times each part of the demo's folds (stage 1 reused from a finished run).

python prof_folds.py --config=/work/main/configs/synthetic.py --config.seed=1 --workdir=prof
"""
import functools, time, sys, collections
from absl import logging
TIMES = collections.defaultdict(float)

def wrap(mod, name, label=None):
  fn = getattr(mod, name)
  label = label or f'{mod.__name__.split(".")[-1]}.{name}'
  @functools.wraps(fn)
  def timed(*a, **k):
    t = time.time()
    try:
      return fn(*a, **k)
    finally:
      dt = time.time() - t
      TIMES[label] += dt
      print(f'TIMER {label} {dt:.1f}s', flush=True)
  setattr(mod, name, timed)

from relgan_jax.evaluation import stage2, baseline, disentanglement, protocol, strength, run_files
from relgan_jax.stage1 import reenactment
wrap(stage2, 'extract_features'); wrap(stage2, 'augmented_features'); wrap(stage2, 'train_mlp')
wrap(stage2, 'fit_mlp')
wrap(baseline, 'train_baseline')
wrap(disentanglement, 'leakage'); wrap(disentanglement, 'fold_reenactment')
wrap(disentanglement, 'retrieval')
wrap(disentanglement, 'untrained_ges')
wrap(reenactment, 'draw_reenactment_grid')
wrap(run_files, 'export_encoder'); wrap(run_files, 'load_encoder'); wrap(run_files, 'save_classifier')
for n in dir(strength):
  if n.startswith('strength_') or n == 'expression_strength':
    wrap(strength, n)
wrap(protocol, 'run_fold')
from relgan_jax import main
from absl import app
if __name__ == '__main__':
  import atexit
  atexit.register(lambda: print('TOTALS', dict(TIMES), flush=True))
  app.run(main.main, flags_parser=main.parse_flags)
