"""A/B in one process: the demo's stage-1 iteration with the reader's one pass over [x_bar in frame; x_tg]
(today) against two passes (x_bar's with its gradient, x_tg's without), blocks taking turns.
Run from the repository root: PYTHONPATH=. python reader_split_ab.py"""
import sys, time
import jax, jax.numpy as jnp, numpy as np
from configs import synthetic
from benchmarks import stage1_programs
from relgan_jax.data import input_pipeline
from relgan_jax.model import losses
from relgan_jax.stage1 import expression_reader, gan_steps

def split_objective(x_bar, d_params, reader, batch, d_scale, *, d_model, reader_model, loss_config):
  de, di = d_model.apply({'params': d_params}, x_bar)
  x_tg = input_pipeline.normalize(batch['x_tg'])
  total, terms = losses.g_loss(de, di, x_bar, x_tg, batch['y_e_s'], batch['y_i_t'], loss_config, d_scale,
                               x_t=input_pipeline.normalize(batch['x_t']))
  shown = losses.reader_view(x_bar, x_tg, loss_config.reader_border)
  fake = expression_reader.block_features(reader_model, reader, shown)
  real = expression_reader.block_features(reader_model, reader, jax.lax.stop_gradient(x_tg))
  terms['g_reader'] = losses.reader_feature_loss(fake, real)
  scale = d_scale if loss_config.reader_warmup else 1.0
  total = total + scale * loss_config.lambda_reader * terms['g_reader']
  terms['g_total'] = total
  return total, terms

config = synthetic.get_config()
dev = jax.devices()[:1]
orig = gan_steps._g_objective
a = stage1_programs.setup(config, ne=7, ni=128, devices=dev)
(it_a,) = stage1_programs.compile_programs(a, 'iteration')
gan_steps._g_objective = split_objective
b = stage1_programs.setup(config, ne=7, ni=128, devices=dev)
(it_b,) = stage1_programs.compile_programs(b, 'iteration')
gan_steps._g_objective = orig
sa, sb = a.state, b.state
# Same start: both take one iteration from equal states; compare metrics.
_, ma = it_a(jax.tree.map(jnp.copy, sa), a.batch); _, mb = it_b(jax.tree.map(jnp.copy, sb), b.batch)
print('g_reader today / split:', float(ma['g_reader']), float(mb['g_reader']))
STEPS = int(sys.argv[1]) if len(sys.argv) > 1 else 20
res = {'today': [], 'split': []}
for r in range(6):
  order = [('today', it_a, a), ('split', it_b, b)][::(1 if r % 2 == 0 else -1)]
  for name, fn, s in order:
    st = sa if name == 'today' else sb
    t = time.perf_counter()
    for _ in range(STEPS):
      st, m = fn(st, s.batch)
      jax.block_until_ready(st)
    res[name].append((time.perf_counter() - t) / STEPS * 1e3)
    if name == 'today': sa = st
    else: sb = st
  print(f"round {r}: today {res['today'][-1]:.1f} ms, split {res['split'][-1]:.1f} ms", flush=True)
ratios = [x / y for x, y in zip(res['today'], res['split'])]
print(f"median today {np.median(res['today']):.1f} ms, split {np.median(res['split']):.1f} ms, median ratio today/split {np.median(ratios):.3f}")
