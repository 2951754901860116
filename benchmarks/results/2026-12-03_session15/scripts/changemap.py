import os, sys
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax.numpy as jnp
from PIL import Image
from configs import synthetic as syncfg
from relgan_jax.model import losses
from relgan_jax.data import records, input_pipeline, loading
config = syncfg.get_config(); config.data.dir = '/work/exp/pre'
ds = records.PreparedDataset('/work/exp/pre')
idx = loading.select_records(ds, np.arange(len(ds)), config)
it = input_pipeline.stage1_dataset(ds, idx, config, seed=0, shard_index=0, shard_count=1)
b = next(it)
xt, xtg = (input_pipeline.normalize(jnp.asarray(b[n])) for n in ('x_t', 'x_tg'))
c = np.asarray(losses.change_map(xtg, xt))[..., 0]
print('max/mean per image', np.round(c.max((1, 2)), 1))
print('y_e_t', b['y_e_t'], 'y_e_s', b['y_e_s'])
rows = []
for i in range(8):
  ct = np.clip(c[i] / c[i].max() * 255, 0, 255).astype(np.uint8)
  rows.append(np.concatenate([b['x_t'][i], b['x_tg'][i], np.repeat(ct[..., None], 3, -1)], 1))
Image.fromarray(np.concatenate(rows, 0)).resize((3 * 128, 8 * 128), Image.NEAREST).save('/work/exp/s15/changemap.png')
