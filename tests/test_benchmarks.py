"""The benchmarks' analytic FLOP count (DESIGN.md §2), checked by hand."""

from benchmarks import stage1_programs

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
