import sys, numpy as np, jax
from configs import synthetic
from relgan_jax.model import models
from relgan_jax.stage1 import gan_steps
config = synthetic.get_config()
g = models.build_generator(config); d = models.build_discriminator(config, 7, 64)
g_tx, d_tx = gan_steps.make_optimizers(config)
st = gan_steps.init_state(config, g, d, g_tx, d_tx, gan_steps.make_mesh(jax.devices()[:1]))
np.savez(sys.argv[1], *[np.asarray(l) for l in jax.tree.leaves((st.g_params, st.d_params))])
