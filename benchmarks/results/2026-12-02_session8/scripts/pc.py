"""What does f(e)'s top principal direction follow? usage: pc.py CKPT"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np
from configs import synthetic as syncfg
from relgan_jax import checkpointing, run_files, records, folds, protocol, features, input_pipeline
config = syncfg.get_config()
state, meta = checkpointing.load_state_tree(sys.argv[1])
run_files.export_encoder(state['g_params'], config, '/tmp/s8_enc2')
mod, var = run_files.load_encoder('/tmp/s8_enc2', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
ev = records.PreparedDataset('/work/exp/eval')
idx = protocol.select_records(ev, np.arange(len(ev)), config)
f = features.extract_features(enc, ev, idx, config)
x = f.f - f.f.mean(0)
u, s, vt = np.linalg.svd(x, full_matrices=False)
pcs = x @ vt[:3].T
crops = input_pipeline.centre_crops(ev, idx, config).astype(np.float32)
bright = crops.mean((1, 2, 3))
out = {'var_frac': [round(float(v), 3) for v in (s**2 / (s**2).sum())[:4]]}
for k in range(3):
  p = pcs[:, k]
  # fraction of the PC's variance explained by identity means / expression means
  def explained(labels):
    m = np.zeros_like(p)
    for l in np.unique(labels):
      m[labels == l] = p[labels == l].mean()
    return round(float(1 - ((p - m) ** 2).sum() / ((p - p.mean()) ** 2).sum()), 3)
  out[f'pc{k}'] = dict(by_identity=explained(f.identity), by_expression=explained(f.expression),
                       corr_brightness=round(float(np.corrcoef(p, bright)[0, 1]), 3))
print(json.dumps(out))
