"""Compile + run time of stage 1's init program and the fold's init_on_images at the demo's shape."""
import time, sys, json
import jax, jax.numpy as jnp, numpy as np
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import gan_steps
from relgan_jax.evaluation import disentanglement as dis
config = synthetic.get_config()
g = models.build_generator(config); d = models.build_discriminator(config, 7, 64)
g_tx, d_tx = gan_steps.make_optimizers(config)
mesh = gan_steps.make_mesh(jax.devices()[:1])
out = {}
s = time.time(); st = gan_steps.init_state(config, g, d, g_tx, d_tx, mesh); jax.block_until_ready(st); out['create_state'] = round(time.time() - s, 2)
s = time.time(); v = models.init_on_images(models.build_classifier(config, 7), jax.random.key(0), 64); jax.block_until_ready(v); out['baseline_init'] = round(time.time() - s, 2)
s = time.time(); ges, gv = dis.untrained_ges(config); jax.block_until_ready(gv); out['untrained_ges_init'] = round(time.time() - s, 2)
leaves = jax.tree.leaves(st.g_params)
out['g_param_std_first_kernels'] = [round(float(np.std(np.asarray(l))), 5) for l in leaves[:3]]
print(json.dumps(out))
