"""Times the demo's two folds on a finished stage 1, with JAX's compile log.

usage: fold_timing.py PRETRAIN_DIR OUT_WORKDIR
"""
import logging as pylog, os, sys, time, re, collections
import jax
from absl import logging
from relgan_jax.stage1 import host_malloc
host_malloc.tune_in_process()
from configs import synthetic
from relgan_jax.data import loading
from relgan_jax.evaluation import protocol

pre, out = sys.argv[1], sys.argv[2]
jax.config.update('jax_log_compiles', True)
compiles = []
class H(pylog.Handler):
  def emit(self, r):
    m = re.search(r'Finished XLA compilation of (.*) in ([0-9.e-]+) sec', r.getMessage())
    if m: compiles.append((m.group(1), float(m.group(2)), time.time()))
pylog.getLogger('jax').addHandler(H()); pylog.getLogger('jax').setLevel(pylog.DEBUG)
logging.set_verbosity(logging.INFO)
cfg = synthetic.get_config()
cfg.protocol.pretrained_checkpoint = pre
os.makedirs(out, exist_ok=False)
ds = loading.load_dataset(cfg, out)
for fold in (0, 1):
  t = time.time(); n0 = len(compiles)
  r = protocol.run_fold(cfg, out, ds, fold)
  dt = time.time() - t
  cs = compiles[n0:]
  agg = collections.Counter()
  for name, s, _ in cs: agg[name] += s
  print(f'FOLD {fold}: {dt:.1f} s, {len(cs)} compiles, {sum(s for _, s, _ in cs):.1f} s compiling; relgan {r["relgan"]["accuracy"]:.2f} baseline {r["baseline"]["accuracy"]:.2f} transfer {r["reenactment"]["expression_transfer"]}', flush=True)
  for name, s in agg.most_common(12): print(f'   {s:6.2f}  {name}')
