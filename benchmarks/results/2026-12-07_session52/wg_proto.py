"""Prototype: the weight gradient from contiguous shifted windows of the flattened padded input."""
import sys, time
import numpy as np, jax, jax.numpy as jnp
sys.path.insert(0, '.')
from relgan_jax.model import cpu_layers as cl

def weight_grad_flat(x, dy, kernel_shape, padding):
  kh, kw, cin, cout = kernel_shape
  b, ho, wo = dy.shape[:3]
  xt = jnp.pad(x.transpose(3, 0, 1, 2), ((0, 0), (0, 0), *padding))
  hp, wp = xt.shape[2], xt.shape[3]
  dyp = jnp.pad(dy, ((0, 0), (0, hp - ho), (0, wp - wo), (0, 0)))
  pieces = -(-b * kh * kw * cin * hp * wp // cl.WEIGHT_GRAD_CHUNK_ELEMENTS)
  chunk = -(-b // pieces)
  extra = (kh - 1) * wp + (kw - 1)
  grad = None
  for b0 in range(0, b, chunk):
    nb = min(chunk, b - b0)
    n = nb * hp * wp
    flat = jnp.pad(xt[:, b0:b0 + nb].reshape(cin, n), ((0, 0), (0, extra)))
    patches = jnp.stack([flat[:, i * wp + j:i * wp + j + n]
                         for i in range(kh) for j in range(kw)]).reshape(kh * kw * cin, n)
    part = jnp.dot(patches, dyp[b0:b0 + nb].reshape(n, cout), preferred_element_type=jnp.float32)
    grad = part if grad is None else grad + part
  return grad.reshape(kh, kw, cin, cout)

if __name__ == '__main__':
  rng = np.random.default_rng(0)
  for (b, s, cin, cout) in [(64, 64, 3, 16), (64, 32, 16, 32), (64, 16, 32, 64), (64, 8, 64, 128), (16, 64, 3, 16), (32, 32, 16, 32), (16, 32, 16, 16)]:
    x = jnp.asarray(rng.standard_normal((b, s, s, cin)), jnp.float32)
    dy = jnp.asarray(rng.standard_normal((b, s, s, cout)), jnp.float32)
    ks, pad = (3, 3, cin, cout), ((1, 1), (1, 1))
    f0 = jax.jit(lambda x, dy: cl.weight_grad(x, dy, ks, pad))
    f1 = jax.jit(lambda x, dy: weight_grad_flat(x, dy, ks, pad))
    a, c = f0(x, dy), f1(x, dy)
    err = float(jnp.max(jnp.abs(a - c)) / jnp.max(jnp.abs(a)))
    res = []
    for f in (f0, f1, f0, f1):
      f(x, dy).block_until_ready()
      t = time.perf_counter()
      for _ in range(20): r = f(x, dy)
      r.block_until_ready(); res.append((time.perf_counter() - t) / 20 * 1e3)
    print(f'B{b} {s}x{s} {cin}->{cout}: now {res[0]:.2f}/{res[2]:.2f} ms, flat {res[1]:.2f}/{res[3]:.2f} ms, rel err {err:.1e}')
