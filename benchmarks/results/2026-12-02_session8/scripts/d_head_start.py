"""Experiment: D learns on real faces (and an untrained G's x_bar) for K steps
before stage 1 starts; then the demo's stage 1 from that D and a fresh G.
usage: d_head_start.py WORKDIR K [config overrides key=val ...]"""
import sys, os, time
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
from absl import flags
flags.FLAGS.mark_as_parsed()
import numpy as np, jax
from configs import synthetic as syncfg
from relgan_jax import records, models, input_pipeline, gan_steps, checkpointing, protocol, train
workdir, K = sys.argv[1], int(sys.argv[2])
config = syncfg.get_config()
config.data.dir = '/work/exp/pre'
for kv in sys.argv[3:]:
  k, v = kv.split('='); sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v))
ds = records.PreparedDataset('/work/exp/pre'); ds.keep_decoded(1 << 30)
idx = protocol.select_records(ds, np.arange(len(ds)), config)
mesh = gan_steps.make_mesh(jax.devices()[:1])
g = models.build_generator(config); d = models.build_discriminator(config, 7, 64)
g_tx, d_tx = gan_steps.make_optimizers(config)
state = gan_steps.init_state(config, g, d, g_tx, d_tx, mesh)
steps = gan_steps.make_steps(config, g, d, g_tx, d_tx, mesh, total_steps=config.train.num_steps)
it = input_pipeline.stage1_dataset(ds, idx, config, seed=999)
t0 = time.time(); accs = []
for k in range(K):
  state, m = steps.d_step(state, gan_steps.shard_batch(next(it), mesh))
  accs.append(float(m['d_exp_acc']))
print('D head start', K, 'steps', round(time.time() - t0), 's; last-100 De acc', np.mean(accs[-100:]), flush=True)
init = workdir + '_init'
mgr = checkpointing.make_manager(init)
checkpointing.save(mgr, K, jax.device_get(state), None, {'num_expressions': 7, 'num_identities': 64})
mgr.wait_until_finished()
t0 = time.time()
train.train_gan(config, workdir, ds, idx, init_checkpoint=init)
print('stage1 seconds', round(time.time() - t0), flush=True)
