"""The real stage-1 programs on one random batch: what the step benchmarks time.

Shared by bench_step.py, profile_step.py and time_step_once.py (no flags here,
so each script keeps its own).
"""

from typing import Any, List, NamedTuple

from absl import app
import numpy as np

from relgan_jax.model import models
from relgan_jax.stage1 import gan_steps


class Stage1Setup(NamedTuple):
  mesh: Any
  state: Any  # The initial GANState.
  steps: Any  # gan_steps.Steps: the jitted, mesh-mapped update programs.
  batch: Any  # One sharded batch of random uint8 faces and labels.


# What one iteration runs, as train.train_gan runs it ('iteration'), or as it
# did before the fused iteration ('separate'): gan_steps.Steps fields, in order.
PROGRAMS = {'iteration': ('iteration',), 'separate': ('d_step', 'g_step')}


def compile_programs(stage1: Stage1Setup, program: str) -> List[Any]:
  """The compiled executables of PROGRAMS[program], for stage1's state and
  batch."""
  return [getattr(stage1.steps, name).lower(stage1.state,
                                            stage1.batch).compile()
          for name in PROGRAMS[program]]


def setup(config, *, ne: int, ni: int, devices=None) -> Stage1Setup:
  """The real stage-1 programs for `config` (model.*, train.batch_size), their
  initial state and one random batch, on `devices` (default: all)."""
  mesh = gan_steps.make_mesh(devices)
  b, s = config.train.batch_size, config.model.image_size
  if b % mesh.size:
    raise app.UsageError(f'--batch={b} is not a multiple of {mesh.size} '
                         'devices.')
  g_model = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
  d_model = models.build_discriminator(config, ne, ni)
  g_tx, d_tx = gan_steps.make_optimizers(config)
  state = gan_steps.init_state(config, g_model, d_model, g_tx, d_tx, mesh)
  steps = gan_steps.make_steps(config, g_model, d_model, g_tx, d_tx, mesh)
  rng = np.random.default_rng(0)
  image = lambda: rng.integers(0, 256, (b, s, s, 3), dtype=np.uint8)
  batch = gan_steps.shard_batch(dict(
      x_s=image(), x_t=image(), x_tg=image(),
      y_e_s=rng.integers(0, ne, b).astype(np.int32),
      y_i_t=rng.integers(0, ni, b).astype(np.int32)), mesh)
  return Stage1Setup(mesh, state, steps, batch)
