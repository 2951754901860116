"""expression_strength of a stage-1 checkpoint on fold 0's test people (strength_pairs, 4 sources). usage: [DATA=dir] strength.py WORKDIR [STEP...]"""
import sys, os, json
import numpy as np
from configs import synthetic as syncfg
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.evaluation import disentanglement as dis, strength as st
from relgan_jax.data import records, folds, loading, input_pipeline
wd = sys.argv[1]
config = syncfg.get_config(); config.data.dir = os.environ.get('DATA', '/work/main/data/synthetic')
ds = records.PreparedDataset(config.data.dir)
tr, te = folds.split_indices(ds, 0); te = loading.select_records(ds, te, config)
ex = np.asarray(ds.expressions)[te]; who = np.asarray(ds.identities)[te]
images = input_pipeline.centre_crops(ds, te, config, 8)
persons = dis.person_keys(who)
src, tgt = st.strength_pairs(ex, persons, ds.manifest['expression_classes'], sources=4, seed=config.seed)
for step in sys.argv[2:] or ['1500']:
  state, _ = checkpointing.load_state_tree(os.path.join(wd, 'checkpoints', step))
  rf, _ = dis.reenactment_fns(config, gan_steps.g_variables(state))
  xbar = dis._batched(rf, 8, images[src], images[tgt])
  print(json.dumps(dict(run=os.path.basename(wd), step=int(step), strength=round(st.expression_strength(xbar, ex[src], persons[tgt], images, ex, persons), 1),
     copy_source=round(st.expression_strength(images[src], ex[src], persons[tgt], images, ex, persons), 1))), flush=True)
