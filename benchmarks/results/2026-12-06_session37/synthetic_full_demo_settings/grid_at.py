"""Draw fold 0's protocol grid and change panel from a kept stage-1 checkpoint: grid_at.py RUN STEP OUT_PREFIX"""
import os, sys
from configs import synthetic_full
from relgan_jax.data import folds as folds_lib, loading, records
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
run, step, out = sys.argv[1], sys.argv[2], sys.argv[3]
config = synthetic_full.get_config()
ds = records.PreparedDataset('data/synthetic')
state, _ = checkpointing.load_state_tree(
    os.path.join(checkpointing.checkpoint_dir(os.path.join(run, 'pretrain')), step))
_, test_idx = folds_lib.split_indices(ds, 0)
test_idx = loading.select_records(ds, test_idx, config)
reenactment.draw_reenactment_grid(
    config, gan_steps.g_variables(state), ds, test_idx, f'{out}_grid.png',
    changes_path=f'{out}_changes.png',
    title=f'configs/synthetic_full.py after {step} of 6,000 stage-1 iterations; fold 0, unseen test subjects. Rows: source x_s (expression); columns: target x_t (identity)')
print('wrote', out)
