"""The real stage-1 programs on one random batch: what the step benchmarks time.

Shared by bench_step.py, profile_step.py and time_step_once.py (no flags here,
so each script keeps its own).
"""

from typing import Any, List, NamedTuple, Optional

from absl import app
import numpy as np

from relgan_jax.model import models
from relgan_jax.stage1 import expression_reader
from relgan_jax.stage1 import gan_steps


class Stage1Setup(NamedTuple):
  mesh: Any
  state: Any  # The initial GANState.
  steps: Any  # gan_steps.Steps: the jitted, mesh-mapped update programs.
  batch: Any  # One sharded batch of random uint8 faces and labels.


def _conv(side: int, cin: int, cout: int) -> int:
  return 2 * side * side * 9 * cin * cout


def analytic_encoder_flops(image_size: int, width: float,
                           features: int) -> int:
  """Multiply-add FLOPs of one image through an encoder (Ges: features =
  f_e_dim; Get: f_i_dim)."""
  flops, cin, side = 0, 3, image_size
  for c in models.ENCODER_CHANNELS:
    cout = models.conv_channels(c, width)
    flops += _conv(side, cin, cout)
    cin, side = cout, side // 2
  return flops + 2 * side * side * cin * features


def analytic_forward_flops(image_size: int, width: float, ne: int,
                           ni: int, f_e_dim: int = 30, f_i_dim: int = 50,
                           d_width: Optional[float] = None,
                           gde_width: Optional[float] = None):
  """(G_fwd, D_fwd): multiply-add FLOPs of one image's forward pass
  (DESIGN.md §2). D's and Gde's channels scale with d_width and gde_width,
  which mean what config.model's fields mean: 0 (or None) = G's width."""
  de_ch = lambda c: models.conv_channels(c, gde_width or width)
  d_ch = lambda c: models.conv_channels(c, d_width or width)
  s = image_size

  c0 = de_ch(models.DECODER_CHANNELS[0])
  side = s // 32
  decoder = 2 * (f_e_dim + f_i_dim) * side * side * c0
  cin = c0
  for c in models.DECODER_CHANNELS:
    side *= 2
    decoder += _conv(side, cin, de_ch(c))
    cin = de_ch(c)
  decoder += _conv(side, cin, 3)
  g_fwd = (analytic_encoder_flops(s, width, f_e_dim)
           + analytic_encoder_flops(s, width, f_i_dim) + decoder)

  d_fwd, cin, side = 0, 3, s
  for c in models.DISCRIMINATOR_CHANNELS:
    d_fwd += _conv(side, cin, d_ch(c))
    cin, side = d_ch(c), side // 2
  shared = models.DISCRIMINATOR_SHARED
  d_fwd += 2 * side * side * cin * shared
  for outputs in (ne + 1, ni):
    dims = (shared, *models.DISCRIMINATOR_HEAD, outputs)
    d_fwd += sum(2 * a * b for a, b in zip(dims[:-1], dims[1:]))
  return g_fwd, d_fwd


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
  """The real stage-1 programs for `config` (model.*, loss.*, train.*), their
  initial state and one random batch, on `devices` (default: all).

  With the expression reader's term (loss.lambda_reader > 0, the demo's since
  session 45) the state holds an untrained reader: the same program as
  train_gan's after the reader's training, which the step timings leave out.
  """
  mesh = gan_steps.make_mesh(devices)
  b, s = config.train.batch_size, config.model.image_size
  if b % mesh.size:
    raise app.UsageError(f'--batch={b} is not a multiple of {mesh.size} '
                         'devices.')
  g_model = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
  d_model = models.build_discriminator(config, ne, ni)
  reader_model = expression_reader.build_model(config, ne)
  g_tx, d_tx = gan_steps.make_optimizers(config)
  state = gan_steps.init_state(config, g_model, d_model, g_tx, d_tx, mesh,
                               reader_model)
  steps = gan_steps.make_steps(config, g_model, d_model, g_tx, d_tx, mesh,
                               reader_model=reader_model)
  rng = np.random.default_rng(0)
  image = lambda: rng.integers(0, 256, (b, s, s, 3), dtype=np.uint8)
  batch = gan_steps.shard_batch(dict(
      x_s=image(), x_t=image(), x_tg=image(),
      y_e_s=rng.integers(0, ne, b).astype(np.int32),
      y_i_t=rng.integers(0, ni, b).astype(np.int32)), mesh)
  return Stage1Setup(mesh, state, steps, batch)
