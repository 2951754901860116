import sys, os, json
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.model import models
from relgan_jax.evaluation import disentanglement as dis, features
from relgan_jax.data import records, folds, loading, input_pipeline
workdir, data_dir = sys.argv[1], sys.argv[2]
config = syncfg.get_config(); config.data.dir = data_dir
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0); te = loading.select_records(ds, te, config)
ck = os.path.join(workdir, 'checkpoints')
step = int(os.environ.get('STEP', max((d for d in os.listdir(ck) if d.isdigit()), key=int)))
state, _ = checkpointing.load_state_tree(os.path.join(ck, str(step)))
v = gan_steps.g_variables(state); g = models.build_generator(config)
imgs = input_pipeline.centre_crops(ds, te, config, 8)[:512]
fe = np.asarray(jax.jit(lambda x: g.apply(v, input_pipeline.normalize(x), method=g.encode_expression))(imgs))
fi = np.asarray(jax.jit(lambda x: g.apply(v, input_pipeline.normalize(x), method=g.encode_identity))(imgs))
def st(f):
  c = f - f.mean(0); s = np.linalg.svd(c, compute_uv=False)
  return dict(norm=float(np.linalg.norm(f, axis=1).mean()), spread=float(np.sqrt((c**2).sum(1).mean())),
              top_sv_share=float(s[0]**2 / (s**2).sum()))
print(json.dumps(dict(step=step, fe=st(fe), fi=st(fi))))
