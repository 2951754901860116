"""Self-reconstruction vs transfer along stage 1 (fold 0's baseline as judge).
usage: recon_curve.py NAME STAGE1_WORKDIR [STEP ...]"""
import sys, os, json
import numpy as np, jax, jax.numpy as jnp
from flax import serialization
from configs import synthetic
from relgan_jax.data import folds, input_pipeline, loading, records
from relgan_jax.evaluation import baseline as bl
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
name, wd, steps = sys.argv[1], sys.argv[2], [int(s) for s in sys.argv[3:]]
config = synthetic.get_config()
ds = records.PreparedDataset('data/synthetic')
tr, te = folds.split_indices(ds, 0)
tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
module = bl.build_baseline(config, 7)
tmpl = jax.jit(lambda k: module.init(k, jnp.zeros((1, 64, 64, 3)), train=False))(jax.random.key(0))
bvars = serialization.from_bytes(tmpl, open('/work/exp/s26/baseline5_f0.msgpack', 'rb').read())
enc = bl.encoder_fn(module, bvars)
read = lambda x: np.concatenate([np.asarray(enc(x[i:i + 64])[0]).argmax(-1) for i in range(0, len(x), 64)])
x = np.concatenate([b['image'] for b in input_pipeline.eval_batches(ds, te, config, batch_size=64)])[:len(te)]
y = np.asarray(ds.expressions)[te]; who = np.asarray(ds.identities)[te]
rng = np.random.default_rng(0)
pick = rng.choice(len(x), 600, replace=False)
other = np.array([rng.choice(np.flatnonzero(who != who[i])) for i in pick])
print('real', 100 * np.mean(read(x) == y))
g_model = models.build_generator(config)
out = []
for step in steps:
  state, _ = checkpointing.load_state_tree(os.path.join(wd, 'checkpoints', str(step)))
  v = gan_steps.g_variables(state)
  gen = lambda s, t: np.concatenate([np.asarray(reenactment.pairs_uint8(g_model, v, s[i:i + 50], t[i:i + 50])) for i in range(0, len(s), 50)])
  xh = gen(x[pick], x[pick]); xo = gen(x[pick], x[other])
  row = dict(run=name, step=step, self_reconstruction=100 * np.mean(read(xh) == y[pick]),
             transfer=100 * np.mean(read(xo) == y[pick]),
             recon_l1=float(np.mean(np.abs(xh.astype(np.float32) - x[pick]) / 127.5)))
  print(json.dumps(row)); out.append(row)
with open('/work/exp/s26/recon_curve.jsonl', 'a') as f:
  for r in out: f.write(json.dumps(r) + '\n')
