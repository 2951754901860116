"""A/B in one process: the demo's stage-1 iteration with the G update of
19b97d2 (the reader's saliency from its own pass of R over x_tg, forward and
backward) against this commit's (the saliency from the reader term's own pass
and pull-back: gan_steps._reader_pass), blocks of STEPS iterations taking turns.
Also the first iteration's metrics of both from one state.
Run at ee770e0 (19b97d2's G update calls expression_reader.saliency, which
the review after session 54 removed) from the repository root, with the old
gan_steps.py saved as OLD:
  git show 19b97d2:relgan_jax/stage1/gan_steps.py > /tmp/gan_steps_old.py
  PYTHONPATH=. python benchmarks/results/2026-12-08_session54/fused_reader_ab.py /tmp/gan_steps_old.py [STEPS] [ROUNDS]"""
import importlib.util
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks import stage1_programs
from configs import synthetic
from relgan_jax.stage1 import gan_steps

spec = importlib.util.spec_from_file_location('gan_steps_old', sys.argv[1])
old = importlib.util.module_from_spec(spec)
spec.loader.exec_module(old)
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 20
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 8

config = synthetic.get_config()  # The demo's: σ = 0.5, λ6 = 1000, in the frame.
dev = jax.devices()[:1]
new_update = gan_steps._g_update
gan_steps._g_update = old._g_update
a = stage1_programs.setup(config, ne=7, ni=128, devices=dev)
(it_old,) = stage1_programs.compile_programs(a, 'iteration')
gan_steps._g_update = new_update
b = stage1_programs.setup(config, ne=7, ni=128, devices=dev)
(it_new,) = stage1_programs.compile_programs(b, 'iteration')

_, ma = it_old(jax.tree.map(jnp.copy, a.state), a.batch)
_, mb = it_new(jax.tree.map(jnp.copy, b.state), b.batch)
for k in ('g_total', 'g_pix', 'g_reader', 'g_grad_norm'):
  print(f'{k}: old {float(ma[k]):.7g}  fused {float(mb[k]):.7g}')

states = {'old': a.state, 'fused': b.state}
programs = {'old': (it_old, a.batch), 'fused': (it_new, b.batch)}
res = {'old': [], 'fused': []}
for r in range(ROUNDS):
  for name in (['old', 'fused'] if r % 2 == 0 else ['fused', 'old']):
    fn, batch = programs[name]
    st = states[name]
    t = time.perf_counter()
    for _ in range(STEPS):
      st, _ = fn(st, batch)
      jax.block_until_ready(st)
    res[name].append((time.perf_counter() - t) / STEPS * 1e3)
    states[name] = st
  print(f"round {r}: old {res['old'][-1]:.1f} ms, fused {res['fused'][-1]:.1f} ms",
        flush=True)
ratios = [x / y for x, y in zip(res['fused'], res['old'])]
print(f"median old {np.median(res['old']):.1f} ms, fused {np.median(res['fused']):.1f} ms, "
      f"median ratio fused/old {np.median(ratios):.3f} (rounds {min(ratios):.3f}-{max(ratios):.3f})")
