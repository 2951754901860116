import time, jax, jax.numpy as jnp, numpy as np
from relgan_jax.model import group_norm as gn

def sum_reduce(a):
  return gn._spatial_sum(a)

def sum_dot(a):
  b, h, w, c = a.shape
  ones = jnp.ones((h * w,), a.dtype)
  return jnp.einsum('bpc,p->bc', a.reshape(b, h * w, c), ones)

def sum_dot2(a):
  b, h, w, c = a.shape
  ones = jnp.ones((1, h * w), a.dtype)
  return jax.lax.dot_general(ones, a.reshape(b, h*w, c), (((1,), (1,)), ((), ()))).reshape(b, c) if False else jnp.matmul(ones[None], a.reshape(b, h*w, c))[:, 0]

def bench(f, x, n=50):
  g = jax.jit(lambda x: (f(x), f(x * x)))
  jax.block_until_ready(g(x))
  ts = []
  for _ in range(n):
    t = time.perf_counter(); jax.block_until_ready(g(x)); ts.append(time.perf_counter() - t)
  return np.median(ts) * 1e3

for shape in [(16, 64, 64, 16), (32, 64, 64, 16), (32, 32, 32, 32), (48, 64, 64, 8), (16, 32, 32, 32), (16, 8, 8, 128)]:
  x = jax.random.normal(jax.random.key(0), shape)
  r = [bench(f, x) for f in (sum_reduce, sum_dot, sum_dot2)]
  a, b = jax.jit(sum_reduce)(x), jax.jit(sum_dot)(x)
  print(shape, ['%.3f' % v for v in r], float(jnp.max(jnp.abs(a - b))))
