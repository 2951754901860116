import sys; sys.argv = sys.argv[:1]
import jax, jax.numpy as jnp, numpy as np, optax
from configs import synthetic
from relgan_jax.data import loading, input_pipeline
from relgan_jax.model import models, losses
config = synthetic.get_config(); config.loss.lambda_local = 1.0
ds = loading.open_prepared('data/synthetic_pretrain', config)
idx = np.arange(len(ds)); idx = idx[np.asarray(ds.expressions)[idx] >= 0]
x = input_pipeline.centre_crops(ds, idx, config); y = np.asarray(ds.expressions)[idx].astype(np.int32)
d = models.build_discriminator(config, 7, 64)
p = d.init(jax.random.PRNGKey(0), jnp.zeros((2, 64, 64, 3)))['params']
tx = optax.adam(3e-4); st = tx.init(p)
@jax.jit
def step(p, st, xb, yb):
  def f(p):
    de, di, loc = d.apply({'params': p}, input_pipeline.normalize(xb))
    b, P = loc.shape[:2]
    g = losses.cross_entropy(de, yb); l = losses.cross_entropy(loc.reshape(b*P, -1), jnp.repeat(yb, P))
    return g + l, (g, l, losses.accuracy(de, yb))
  (v, aux), gr = jax.value_and_grad(f, has_aux=True)(p)
  u, st = tx.update(gr, st, p); return optax.apply_updates(p, u), st, aux
rng = np.random.default_rng(0)
for i in range(301):
  j = rng.choice(len(x), 16); p, st, aux = step(p, st, x[j], y[j])
  if i % 50 == 0: print(i, [round(float(a), 3) for a in aux], flush=True)
