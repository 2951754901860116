import time, jax, jax.numpy as jnp, numpy as np
from jax import lax
def bench(f, *a, n=10):
  f(*a).block_until_ready()
  ts=[]
  for _ in range(n):
    t=time.perf_counter(); f(*a).block_until_ready(); ts.append(time.perf_counter()-t)
  return np.median(ts)
for (B,S,C,K) in [(16,48,128,128),(16,24,256,256),(16,96,32,64),(8,16,16,32),(16,12,256,512)]:
  x=jnp.ones((B,S,S,C),jnp.float32); w=jnp.ones((3,3,C,K),jnp.float32)*0.01
  conv=jax.jit(lambda x,w: lax.conv_general_dilated(x,w,(1,1),'SAME',dimension_numbers=('NHWC','HWIO','NHWC')))
  def im2col(x,w):
    xp=jnp.pad(x,((0,0),(1,1),(1,1),(0,0)))
    cols=jnp.concatenate([xp[:,i:i+S,j:j+S,:] for i in range(3) for j in range(3)],-1)
    return (cols.reshape(-1,9*C)@w.reshape(9*C,K)).reshape(B,S,S,K)
  im=jax.jit(im2col)
  flops=2*B*S*S*9*C*K
  tc=bench(conv,x,w); ti=bench(im,x,w)
  a=jnp.ones((B*S*S,9*C)); bm=jnp.ones((9*C,K))
  td=bench(jax.jit(lambda a,b:a@b),a,bm)
  print((B,S,C,K),'conv %.2f ms %.3f TF/s | im2col %.2f ms %.3f TF/s | dot alone %.2f ms %.3f TF/s'%(tc*1e3,flops/tc/1e12,ti*1e3,flops/ti/1e12,td*1e3,flops/td/1e12))
