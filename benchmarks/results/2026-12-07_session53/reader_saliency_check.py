"""Would the frozen expression reader's saliency aim the pixel term's weight
better than |x_tg − x_t|? On generated pairs (as change_map_check.py), the share
of each map's weight inside the expression's pure region: the pair's change
map (as trained), the reader's input-gradient saliency on x_tg for its label
(5x5-smoothed |d log p_e / d x_tg|), and the saliency of the reader's
expression-vs-neutral margin (logit_e − logit_neutral), and the products of
the pair's map and each saliency (each over its mean). The reader is the one
a 1,800-iteration demo trained (seed 1, session 51), read from its checkpoint.

  python benchmarks/results/2026-12-07_session53/reader_saliency_check.py STAGE1_WORKDIR
"""
import sys

import jax
import jax.numpy as jnp
import numpy as np
from PIL import Image

from configs import synthetic  # noqa: E402
from relgan_jax.data import synthetic_set as ss  # noqa: E402
from relgan_jax.data.synthetic_people import EXPRESSION_CLASSES  # noqa: E402
from relgan_jax.stage1 import checkpointing, expression_reader  # noqa: E402


def box5(d):
  p = np.pad(d, 2)
  return sum(p[i:i + 64, j:j + 64] for i in range(5) for j in range(5)) / 25


def prep(img):  # as stage 1 sees a face: 112 -> 75 px, centre 64x64, [-1, 1]
  a = np.asarray(Image.fromarray(img).resize((75, 75), Image.BILINEAR),
                 np.float32)[5:69, 5:69]
  return a / 127.5 - 1


config = synthetic.get_config()
model = expression_reader.build_model(config, 7)
state, _ = checkpointing.load_state_tree(sys.argv[1])
variables = jax.tree_util.tree_map(jnp.asarray, state['reader'])


@jax.jit
def saliencies(x, e):
  def logp(x):
    return jax.nn.log_softmax(model.apply(variables, x[None], train=False))[0]
  g_ce = jax.grad(lambda x: logp(x)[e])(x)
  g_margin = jax.grad(lambda x: logp(x)[e] - logp(x)[0])(x)
  return jnp.abs(g_ce).mean(-1), jnp.abs(g_margin).mean(-1), logp(x)


print('expr      share in region: pair map, reader CE saliency, reader margin '
      'saliency, pair map x margin saliency, pair map x CE saliency | reader '
      'p(label)')
for e in range(1, 7):
  rows = []
  for ident in range(40, 52):
    for k in (1, 3):
      t, tg = prep(ss.render_image(1, ident, 0, 0, 0)), prep(
          ss.render_image(1, ident, e, k, 1))
      t0 = prep(ss.render_image(1, ident, 0, 0, 0, jitter=False))
      tg0 = prep(ss.render_image(1, ident, e, k, 0, jitter=False))
      region = box5(np.abs(tg0 - t0).mean(-1)) > 0.02
      pair = box5(np.abs(tg - t).mean(-1))
      s_ce, s_margin, lp = map(np.asarray, saliencies(jnp.asarray(tg), e))
      sal = box5(s_margin)
      ce = box5(s_ce)
      maps = [pair, ce, sal, (pair / pair.mean()) * (sal / sal.mean()),
              (pair / pair.mean()) * (ce / ce.mean())]
      rows.append([(m * region).sum() / m.sum() for m in maps]
                  + [np.exp(lp[e])])
  r = np.mean(rows, 0)
  print(f'{EXPRESSION_CLASSES[e]:9s}', ' '.join(f'{x:.3f}' for x in r))
