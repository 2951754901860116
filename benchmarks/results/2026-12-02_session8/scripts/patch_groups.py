"""Experiment patch: G's GroupNorm groups scaled with G's width, so a narrow G
keeps the full-width G's group sizes: groups = gcd(max(1, round(32*w)), C).
D (axis_name None in training) keeps gcd(32, C). GN_FORCE_G=1: every call is
G's (the probe builds Ges alone)."""
import math, os
from relgan_jax import models
W = float(os.environ['GN_WIDTH'])
G = max(1, round(32 * W))
FORCE_G = os.environ.get('GN_FORCE_G') == '1'
_orig = models.normalize_layer
def normalize_layer(kind, x, train, *, dtype, axis_name, name, ops=models.layers.PLAIN):
  if kind == 'group' and (axis_name is not None or FORCE_G):
    return ops.group_norm(num_groups=math.gcd(G, x.shape[-1]), dtype=dtype, name=name)(x)
  return _orig(kind, x, train, dtype=dtype, axis_name=axis_name, name=name, ops=ops)
models.normalize_layer = normalize_layer
print('patched G GroupNorm groups: gcd(%d, C)%s' % (G, ' (forced)' if FORCE_G else ''), flush=True)
