import jax, jax.numpy as jnp
from relgan_jax.model import cpu_layers
k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
m = lambda a: a[:, :, ::-1]; mk = lambda w: w[:, ::-1]
P = ((1, 1), (1, 1))
for name, op, xs, ws in (('to_rgb 64x64 16->3', lambda x, w: cpu_layers.conv_fast(x, w, P), (2, 64, 64, 16), (3, 3, 16, 3)),
                         ('rgb in 64x64 3->16', lambda x, w: cpu_layers.conv_fast(x, w, P), (2, 64, 64, 3), (3, 3, 3, 16)),
                         ('rgb in 64x64 3->8', lambda x, w: cpu_layers.conv_fast(x, w, P), (2, 64, 64, 3), (3, 3, 3, 8)),
                         ('up 32->64 16->8', cpu_layers.upsample_conv_fast, (2, 32, 32, 16), (3, 3, 16, 8)),
                         ('up 2->4 64->64', cpu_layers.upsample_conv_fast, (2, 2, 2, 64), (3, 3, 64, 64)),
                         ('up 4->8 64->32', cpu_layers.upsample_conv_fast, (2, 4, 4, 64), (3, 3, 64, 32))):
  x = jax.random.normal(k1, xs); w = jax.random.normal(k2, ws)
  y = op(x, w); ym = op(m(x), mk(w)); r = jax.random.normal(k3, y.shape)
  gx, gw = jax.grad(lambda x, w: jnp.sum(op(x, w) * r), (0, 1))(x, w)
  gxm, gwm = jax.grad(lambda x, w: jnp.sum(op(x, w) * m(r)), (0, 1))(m(x), mk(w))
  print(f'{name}: fwd {float(jnp.abs(ym - m(y)).max()):.2e} dx {float(jnp.abs(gxm - m(gx)).max()):.2e} dw {float(jnp.abs(gwm - mk(gw)).max()):.2e}')
