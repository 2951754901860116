"""Left-right symmetry of what stage 1 trains on: over 150 batches of the demo's stage-1 stream, per position,
the mean |x_tg - x_t| (what Get cannot give G) and the mean x_tg; compared with their mirror images."""
import numpy as np
from configs import synthetic
from relgan_jax.data import records, input_pipeline
config = synthetic.get_config()
config.data.dir = 'data/synthetic_pretrain'
ds = records.PreparedDataset('data/synthetic_pretrain')
it = input_pipeline.stage1_dataset(ds, list(range(len(ds))), config, seed=0, shard_index=0, shard_count=1)
d = 0; mean = 0; n = 0
for _ in range(150):
  b = next(it)
  xt = b['x_t'].astype(np.float32); xtg = b['x_tg'].astype(np.float32)
  d = d + np.abs(xtg - xt).mean((0, 3)); mean = mean + xtg.mean(0); n += 1
d /= n; mean /= n
print('|x_tg - x_t| corners 4x4 TL TR BL BR:', [round(float(v), 2) for v in (d[:4, :4].mean(), d[:4, -4:].mean(), d[-4:, :4].mean(), d[-4:, -4:].mean())], 'image', round(float(d.mean()), 2))
print('asymmetry of |x_tg - x_t| map: max |d - mirror(d)| / mean', round(float(np.abs(d - d[:, ::-1]).max() / d.mean()), 3))
print('asymmetry of mean x_tg: mean |m - mirror(m)|', round(float(np.abs(mean - mean[:, ::-1]).mean()), 2), 'vs mean |m - flipud(m)|', round(float(np.abs(mean - mean[::-1]).mean()), 2))
print('left 4 cols |x_tg-x_t|', round(float(d[:, :4].mean()), 2), 'right 4 cols', round(float(d[:, -4:].mean()), 2))
