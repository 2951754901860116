"""How sharp must a face be for the baseline to read its expression? Fold 0's cached
baseline on the fold's real test centre crops blurred with a Gaussian (sigma px), beside
the mean gradient magnitude (sharpness) of those crops and of x_bar from a stage-1 run,
and the baseline's reading of x_bar (transfer) for the same pairs.
usage: blur_ceiling.py WORKDIR DATA_DIR [sec.field=value ...]"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from flax import serialization
from scipy.ndimage import gaussian_filter
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import features, baseline as bl, disentanglement as dis, run_files
from relgan_jax.data import records, folds, loading, input_pipeline

workdir, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir
for kv in sys.argv[3:]:
  k, v = kv.split('='); sec, f = k.split('.')
  config[sec][f] = type(config[sec][f])(eval(v))
bconfig = syncfg.get_config(); bconfig.data.dir = data_dir
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0)
te = loading.select_records(ds, te, config)
module = bl.build_baseline(bconfig, 7)
size = config.model.image_size
tmpl = jax.jit(lambda k: module.init(k, jnp.zeros((1, size, size, 3)), train=False))(jax.random.key(0))
bvars = serialization.from_bytes(tmpl, open('/work/exp/baseline_f0.msgpack', 'rb').read())
images = input_pipeline.centre_crops(ds, te, config, 8)
ck = os.path.join(workdir, 'checkpoints')
last = max((d for d in os.listdir(ck) if d.isdigit()), key=int)
state, _ = checkpointing.load_state_tree(os.path.join(ck, last))
v = gan_steps.g_variables(state)
run_files.export_encoder(v['params'], config, '/tmp/s14_blur_enc')
mod, var = run_files.load_encoder('/tmp/s14_blur_enc', return_variables=True)
fte = features.extract_features(features.ges_encoder_fn(mod, var), ds, te, config)
expr = fte.expression
rf, cf = dis.reenactment_fns(config, v, (module, bvars))

def sharp(x):
  x = np.asarray(x, np.float32).mean(-1)
  return float(np.mean(np.abs(np.diff(x, axis=1))) + np.mean(np.abs(np.diff(x, axis=2))))

out = {'step': int(last)}
for s in (0, 0.75, 1.0, 1.5, 2.0, 3.0):
  b = images if s == 0 else np.clip(np.round(gaussian_filter(images.astype(np.float32), (0, s, s, 0))), 0, 255).astype(np.uint8)
  read = dis._batched(cf, 8, b).argmax(-1)
  out[f'sigma{s}'] = dict(acc=round(100 * float(np.mean(read == expr)), 1), sharpness=round(sharp(b), 2))
pairs = dis.transfer_pairs(expr, fte.identity, ds.manifest['expression_classes'],
                           targets_per_source=config.stage2.transfer_targets,
                           max_pairs=config.stage2.transfer_max_pairs, seed=config.seed)
xb = dis._batched(rf, 8, images[pairs[0]], images[pairs[1]])
out['x_bar'] = dict(transfer=round(100 * float(np.mean(dis._batched(cf, 8, xb).argmax(-1) == expr[pairs[0]])), 1),
                    sharpness=round(sharp(xb), 2))
print(json.dumps(out))
