import sys, os
from configs import synthetic_full as cfgmod
from relgan_jax.stage1 import checkpointing, gan_steps, reenactment
from relgan_jax.data import records, folds, loading
ckpt, data_dir, out = sys.argv[1:4]
config = cfgmod.get_config(); config.data.dir = data_dir
config.model.gde_output = 'residual'; config.loss.pixel_change_weight = 16.0
ds = records.PreparedDataset(data_dir)
tr, te = folds.split_indices(ds, 0); te = loading.select_records(ds, te, config)
state, meta = checkpointing.load_state_tree(ckpt)
reenactment.draw_reenactment_grid(config, gan_steps.g_variables(state), ds, te, out, title=f'residual + change weight 16 + reader, step {meta["step"]}')
