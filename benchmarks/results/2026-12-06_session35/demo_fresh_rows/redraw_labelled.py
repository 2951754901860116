import json, os, sys
import numpy as np
from configs import synthetic
from relgan_jax.data import folds as folds_lib, loading, records
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
from relgan_jax.evaluation import protocol
run, out = sys.argv[1], sys.argv[2]
config = synthetic.get_config()
config.data.dir = os.path.join(os.path.dirname(os.path.dirname(run)), 'data/synthetic')
ds = records.PreparedDataset(config.data.dir)
state, _ = checkpointing.load_state_tree(os.path.join(run, 'pretrain'))
g = gan_steps.g_variables(state)
_, test_idx = folds_lib.split_indices(ds, 0)
test_idx = loading.select_records(ds, test_idx, config)
result = json.load(open(os.path.join(run, 'fold_0', 'result.json')))
m = result['reenactment']
# Per-class values as the report has them (the run predates the per-class keys in result.json?)
print(sorted(m))
rep = json.load(open(os.path.join(run, 'report.json')))['disentanglement']['by_source_expression']
names = ds.manifest['expression_classes']
m['expression_transfer_by_class'] = [rep[n]['expression_transfer']['per_fold'][0] for n in names]
m['expression_strength_by_class'] = [rep[n]['expression_strength']['per_fold'][0] for n in names]
reenactment.draw_reenactment_grid(config, g, ds, test_idx, out, measures=m,
  title='fold 0, unseen test subjects. Rows: source x_s (expression); columns: target x_t (identity)')
