import os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.model import models
from relgan_jax.evaluation import run_files, features
from relgan_jax.data import records, loading
config = syncfg.get_config()
ev = records.PreparedDataset('/work/exp/eval')
idx = loading.select_records(ev, np.arange(len(ev)), config)
g = models.build_generator(config)
x = jnp.zeros((1, 64, 64, 3))
v = g.init(jax.random.PRNGKey(0), x, x)
run_files.export_encoder(v['params'], config, '/tmp/s9_enc0')
mod, var = run_files.load_encoder('/tmp/s9_enc0', return_variables=True)
f = features.extract_features(features.ges_encoder_fn(mod, var), ev, idx, config)
x = f.f - f.f.mean(0); lam = np.linalg.svd(x, compute_uv=False)**2/len(x)
print(json.dumps(dict(total_var=float(lam.sum()), frac=[round(float(l),3) for l in lam[:4]/lam.sum()], mean_norm=float(np.linalg.norm(f.f.mean(0))))))
