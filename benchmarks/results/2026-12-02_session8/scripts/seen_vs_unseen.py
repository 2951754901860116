"""Diagnostic: is f(e) better on the people stage 1 trained on than on unseen people?
MLP on f(e): pre-training people split in two halves (seen by stage 1) vs eval fold 0 (unseen).
Also De's accuracy on real centre crops of both populations.
usage: seen_vs_unseen.py CKPT PRE_DIR EVAL_DIR"""
import sys, os, json
os.environ.setdefault('JAX_PLATFORMS', 'cpu')
import numpy as np, jax, jax.numpy as jnp
from configs import synthetic as syncfg
from relgan_jax import checkpointing, run_files, records, folds, stage2, protocol, models, features, input_pipeline
ckpt, pre_dir, eval_dir = sys.argv[1:4]
config = syncfg.get_config()
state, meta = checkpointing.load_state_tree(ckpt)
run_files.export_encoder(state['g_params'], config, '/tmp/s8_enc')
mod, var = run_files.load_encoder('/tmp/s8_enc', return_variables=True)
enc = features.ges_encoder_fn(mod, var)
d = models.build_discriminator(config, 7, 64); dv = {'params': state['d_params']}
de = jax.jit(lambda x: jnp.argmax(d.apply(dv, input_pipeline.normalize(x))[0][:, :-1], -1))
out = {'step': meta['step']}
def run(name, ds, tr, te):
  ftr = features.extract_features(enc, ds, tr, config)
  fte = features.extract_features(enc, ds, te, config)
  mlp = stage2.train_mlp(ftr, 7, config, seed=0)
  out[name + '_mlp_test'] = round(100 * float(np.mean(mlp.logits(fte.f).argmax(-1) == fte.expression)), 1)
  out[name + '_mlp_train'] = round(100 * float(np.mean(mlp.logits(ftr.f).argmax(-1) == ftr.expression)), 1)
  crops = input_pipeline.centre_crops(ds, te, config)
  out[name + '_De_test'] = round(100 * float(np.mean(np.concatenate([np.asarray(de(crops[i:i+64])) for i in range(0, len(crops), 64)]) == fte.expression)), 1)
pre = records.PreparedDataset(pre_dir)
idx = protocol.select_records(pre, np.arange(len(pre)), config)
subj = np.unique(pre.subjects[idx]); half = set(subj[::2])
a = np.array([i for i in idx if pre.subjects[i] in half]); b = np.array([i for i in idx if pre.subjects[i] not in half])
run('seen', pre, a, b)
ev = records.PreparedDataset(eval_dir)
tr, te = folds.split_indices(ev, 0)
tr = protocol.select_records(ev, tr, config); te = protocol.select_records(ev, te, config)
run('unseen', ev, tr, te)
print(json.dumps(out))
