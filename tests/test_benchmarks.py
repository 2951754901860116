"""The benchmarks' analytic FLOP count (DESIGN.md §2), checked by hand, and
the programs they time."""

import jax

from benchmarks import stage1_programs
from configs import tiny
from relgan_jax.stage1 import expression_reader

# D at 32x32: four 3x3 convs (2·side²·9·cin·cout each) at 32, 16, 8, 4 px, the
# shared Dense from 2x2xC to 1024, then the De (Ne + 1) and Di (Ni) heads
# 1024 -> 512 -> 256 -> outputs.
_HEADS = 2 * (1024 * 512 + 512 * 256 + 256 * 8) + 2 * (
    1024 * 512 + 512 * 256 + 256 * 64)
_D_FULL = (2 * 32 * 32 * 9 * 3 * 16 + 2 * 16 * 16 * 9 * 16 * 32
           + 2 * 8 * 8 * 9 * 32 * 64 + 2 * 4 * 4 * 9 * 64 * 128
           + 2 * 2 * 2 * 128 * 1024 + _HEADS)        # channels 16..128
_D_EIGHTH = (2 * 32 * 32 * 9 * 3 * 2 + 2 * 16 * 16 * 9 * 2 * 4
             + 2 * 8 * 8 * 9 * 4 * 8 + 2 * 4 * 4 * 9 * 8 * 16
             + 2 * 2 * 2 * 16 * 1024 + _HEADS)       # channels 2..16


def test_discriminator_flops_follow_d_width():
  flops = stage1_programs.analytic_forward_flops
  g_eighth, d_default = flops(32, 0.125, ne=7, ni=64)
  g_same, d_full = flops(32, 0.125, ne=7, ni=64, d_width=1.0)
  assert (d_default, d_full) == (_D_EIGHTH, _D_FULL)
  # config.model.d_width's 0 = G's width, as bench_step passes it.
  assert flops(32, 0.125, ne=7, ni=64, d_width=0.0)[1] == _D_EIGHTH
  assert _D_FULL == 11_669_504
  assert g_same == g_eighth  # D's width does not change G's count.


def test_encoder_flops_by_hand():
  # Ges at 32x32, width 1/8: convs 3->8, 8->16, 16->32, 32->64, 64->64 at
  # 32, 16, 8, 4, 2 px, then the Dense from 1x1x64 to f(e)'s 30.
  expected = (2 * 32 * 32 * 9 * 3 * 8 + 2 * 16 * 16 * 9 * 8 * 16
              + 2 * 8 * 8 * 9 * 16 * 32 + 2 * 4 * 4 * 9 * 32 * 64
              + 2 * 2 * 2 * 9 * 64 * 64 + 2 * 64 * 30)
  assert stage1_programs.analytic_encoder_flops(32, 0.125, 30) == expected


def test_decoder_flops_follow_gde_width():
  # Gde at 32x32: Dense 80 -> 1x1xC0, five (2x up, 3x3 conv) blocks at 2, 4,
  # 8, 16, 32 px, then the 3x3 conv to RGB.
  def decoder(channels):  # DECODER_CHANNELS scaled: 512, 256, 128, 64, 32.
    flops, cin, side = 2 * 80 * channels[0], channels[0], 1
    for cout in channels:
      side *= 2
      flops += 2 * side * side * 9 * cin * cout
      cin = cout
    return flops + 2 * 32 * 32 * 9 * cin * 3

  flops = stage1_programs.analytic_forward_flops
  (g_same, d_same), (g_wide, d_wide) = (
      flops(32, 0.125, ne=7, ni=64, gde_width=w) for w in (0.0, 0.25))
  assert g_wide - g_same == (decoder([128, 64, 32, 16, 8])
                             - decoder([64, 32, 16, 8, 4]))
  assert d_wide == d_same  # Gde's width does not change D's count.


def test_setup_builds_the_programs_with_the_expression_reader():
  """The demo's config runs the reader's term (configs/synthetic.py): the
  benchmarks' programs then carry a reader too, and the iteration traces
  (without one, R's forward pass has no network)."""
  config = tiny.get_config()
  config.loss.lambda_reader = 2.0
  stage1 = stage1_programs.setup(config, ne=7, ni=4,
                                 devices=jax.devices()[:1])
  assert jax.tree_util.tree_leaves(stage1.state.reader)
  lowered = stage1.steps.iteration.lower(stage1.state, stage1.batch)
  assert 'g_reader' in lowered.out_info[1]
  # Without the term, setup's reader model (the one decision,
  # expression_reader.build_model) is None, so its state holds no reader.
  config.loss.lambda_reader = 0.0
  assert expression_reader.build_model(config, 7) is None
