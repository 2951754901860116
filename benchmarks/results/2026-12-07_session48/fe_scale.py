import sys, numpy as np, jax, jax.numpy as jnp
sys.path.insert(0, '/work/main')
from configs import synthetic
from relgan_jax.stage1 import checkpointing, gan_steps
from relgan_jax.model import models
from relgan_jax.data import loading, input_pipeline
config = synthetic.get_config()
state, _ = checkpointing.load_state_tree(sys.argv[1])
gv = gan_steps.g_variables(state)
g = models.build_generator(config, bn_axis_name=None)
ds = loading.open_prepared('data/synthetic', config)
idx = np.arange(0, len(ds), 5)
x = input_pipeline.normalize(jnp.asarray(input_pipeline.centre_crops(ds, idx, config)))
fe = np.asarray(g.apply(gv, x, method=g.encode_expression))
fi = np.asarray(g.apply(gv, x, method=g.encode_identity))
print('f_e: mean|.| %.3f std %.3f norm %.2f' % (np.abs(fe).mean(), fe.std(), np.linalg.norm(fe, axis=1).mean()))
print('f_i: mean|.| %.3f std %.3f norm %.2f' % (np.abs(fi).mean(), fi.std(), np.linalg.norm(fi, axis=1).mean()))
W = np.asarray(gv['params']['Gde']['dense']['kernel'])
print('Gde dense kernel rows: f_e part mean|w| %.4f, f_i part %.4f' % (np.abs(W[:30]).mean(), np.abs(W[30:]).mean()))
# contribution of each to the dense pre-activation
ce = fe @ W[:30]; ci = fi @ W[30:]
print('dense pre-act from f_e: std %.3f ; from f_i: std %.3f' % (ce.std(), ci.std()))
# between-expression variation of f_e contribution
ex = np.asarray(ds.expressions)[idx]
means = np.stack([ce[ex==k].mean(0) for k in np.unique(ex)])
print('f_e contribution: between-expression std %.3f, within %.3f' % (means.std(0).mean(), np.mean([ce[ex==k].std(0).mean() for k in np.unique(ex)])))
