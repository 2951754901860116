"""Which of L_G's terms pushes the corners of x_bar, at the end of a finished
demo's stage 1: for each term (weighted as at full warm-up), dTerm/dx_bar over
stage-1 batches of the pre-training set, G's live params; per 4x4 corner, its
mean |gradient| over the image's, and how much of the descent step there
points away from 0 (toward saturation: mean of -g*sign(x_bar) over mean |g|,
+1 all outward, -1 all inward), beside the share of the corner's values above
0.9. With --at_step: the D-judged terms and the reader weighted as at the
checkpoint's step (the warm-up over loss.d_terms_warmup of 1,800 iterations),
and each term's mean |gradient| in the corner printed too. Run from the repository root: PYTHONPATH=. python corner_terms.py PATH...,
each PATH a finished run's pretrain/ folder or one of its checkpoint step folders
(corner_terms.txt: the four runs' pretrain/, named by their run)."""
import sys

import jax
import jax.numpy as jnp
import numpy as np

from configs import synthetic
from relgan_jax.data import input_pipeline, records
from relgan_jax.model import losses, models
from relgan_jax.stage1 import checkpointing, expression_reader, gan_steps

config = synthetic.get_config()
L = config.loss
ds = records.PreparedDataset('data/synthetic_pretrain')
g_model = models.build_generator(config)
reader_model = expression_reader.build_model(config, 7)
CORNERS = {'TL': (slice(0, 4), slice(0, 4)), 'TR': (slice(0, 4), slice(60, 64)),
           'BL': (slice(60, 64), slice(0, 4)), 'BR': (slice(60, 64), slice(60, 64))}

AT_STEP = '--at_step' in sys.argv
for run in [a for a in sys.argv[1:] if a != '--at_step']:
  state, meta = checkpointing.load_state_tree(run)
  scale = (float(losses.d_terms_scale(jnp.asarray(meta['step']), losses.warmup_steps(L, 1800)))
           if AT_STEP else 1.0)
  ni = state['d_params']['Di']['logits']['kernel'].shape[-1]
  d_model = models.build_discriminator(config, 7, ni)

  @jax.jit
  def grads(batch):
    x_s, x_t, x_tg = (input_pipeline.normalize(batch[k]) for k in ('x_s', 'x_t', 'x_tg'))
    x_bar = g_model.apply(gan_steps.g_variables(state, averaged=False), x_s, x_t, train=True)
    _, d_reader, saliency = gan_steps._reader_pass(x_bar, state['reader'], batch,
                                                   reader_model=reader_model, loss_config=L)
    def term(name, xb):
      de, di = d_model.apply({'params': state['d_params']}, xb)
      return {'adv': lambda: L.lambda_adv * losses.adversarial_loss(de),
              'exp': lambda: L.lambda_exp * losses.cross_entropy(de, batch['y_e_s']),
              'id': lambda: L.lambda_id * losses.cross_entropy(di, batch['y_i_t']),
              'pix': lambda: L.lambda_pix * L.pixel_scale * losses.pixel_loss(
                  xb, x_tg, x_t, L.pixel_change_weight, saliency, L.pixel_change_saliency,
                  L.reader_border)}[name]()
    out = {n: jax.grad(lambda xb, n=n: term(n, xb))(x_bar) for n in ('adv', 'exp', 'id', 'pix')}
    out['reader'] = L.lambda_reader * d_reader
    out = {n: v * (scale if n != 'pix' else 1.0) for n, v in out.items()}
    return x_bar, out

  it = input_pipeline.stage1_dataset(ds, np.arange(len(ds)), config, seed=123)
  acc = {}
  sat = {c: [] for c in CORNERS}
  for _ in range(8):
    batch = {k: v for k, v in next(it).items()}
    x_bar, g = jax.device_get(grads(batch))
    for c, (r, s) in CORNERS.items():
      sat[c].append((np.abs(x_bar[:, r, s]) > 0.9).mean())
      for n, gn in g.items():
        mag = np.abs(gn[:, r, s]).mean() / np.abs(gn).mean()
        out = (-gn[:, r, s] * np.sign(x_bar[:, r, s])).mean() / max(np.abs(gn[:, r, s]).mean(), 1e-30)
        acc.setdefault((c, n), []).append((mag, out))
        acc.setdefault((c, n, 'abs'), []).append(np.abs(gn[:, r, s]).mean())
  print(f'== {run}' + (f' (step {meta["step"]}, D-judged terms x{scale:.2f})' if AT_STEP else ''))
  for c in CORNERS:
    parts = [f'{n} {np.mean([a for a, _ in acc[(c, n)]]):.2f}x {np.mean([b for _, b in acc[(c, n)]]):+.2f}'
             + (f' |{np.mean(acc[(c, n, "abs")]):.1e}|' if AT_STEP else '')
             for n in ('adv', 'exp', 'id', 'pix', 'reader')]
    print(f'  {c} (>0.9: {np.mean(sat[c]):.2f}): ' + ' | '.join(parts), flush=True)
