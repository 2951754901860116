"""The CNN baseline as the protocol trains it (configs/synthetic.py), with its five crop places
(as shipped) and with the centre crop only (rotations and flips kept), on both folds of the demo's set.
usage: baseline_centre.py"""
import json, time
import numpy as np
from configs import synthetic
from relgan_jax.data import folds, loading, records, input_pipeline
from relgan_jax.evaluation import baseline as bl
ds = records.PreparedDataset('/work/main/data/synthetic')
out = []
for five in (True, False):
  for fold in (0, 1):
    config = synthetic.get_config(); config.data.dir = '/work/main/data/synthetic'
    config.augment.five_crops = five
    tr, te = folds.split_indices(ds, fold)
    tr = loading.select_records(ds, tr, config); te = loading.select_records(ds, te, config)
    t = time.time()
    module, variables = bl.train_baseline(config, ds, tr, 7, seed=config.seed + fold)
    enc = bl.encoder_fn(module, variables)
    x = np.concatenate([b['image'] for b in input_pipeline.eval_batches(ds, te, config, batch_size=64)])[:len(te)]
    pred = np.concatenate([np.asarray(enc(x[i:i + 64])[0]).argmax(-1) for i in range(0, len(x), 64)])
    acc = 100 * float(np.mean(pred == np.asarray(ds.expressions)[te]))
    row = dict(five_crops=five, fold=fold, accuracy=round(acc, 2), seconds=round(time.time() - t))
    print(json.dumps(row), flush=True); out.append(row)
