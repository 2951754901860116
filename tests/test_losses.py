"""Each loss term against a value computed by hand in numpy."""

import jax
from jax import lax
import jax.numpy as jnp
from jax.sharding import PartitionSpec as P
import ml_collections
import numpy as np
import pytest

from relgan_jax.model import losses

# Two examples, Ne = 2 expressions (+ "fake" at index 2), Ni = 3 identities.
DE_FAKE = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], np.float32)
DE_SOURCE = np.array([[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]], np.float32)
DI = np.array([[0.2, 0.1, -0.3], [1.0, 0.0, 2.0]], np.float32)
Y_E_S = np.array([1, 0], np.int32)
Y_I_T = np.array([2, 0], np.int32)
X_BAR = np.array([0.5, -0.25, 1.0, 0.0], np.float32).reshape(1, 1, 2, 2)
X_TG = np.array([0.0, 0.25, -1.0, 0.5], np.float32).reshape(1, 1, 2, 2)
LAMBDAS = ml_collections.ConfigDict(dict(
    lambda_adv=0.7, lambda_pix=20.0, lambda_exp=50.0, lambda_id=30.0,
    pixel_scale=1.0, d_terms_warmup=0.0, lambda_fe_contrast=0.0,
    fe_contrast_temperature=0.1,
    pixel_change_weight=0.0, lambda_reader=0.0, reader_border=0.0,
    pixel_change_saliency=0.0))


def _softmax(z):
  e = np.exp(z - z.max(-1, keepdims=True))
  return e / e.sum(-1, keepdims=True)


def _ce(z, y):
  p = _softmax(z.astype(np.float64))
  return -np.mean(np.log(p[np.arange(len(y)), y]))


def test_cross_entropy_matches_numpy():
  np.testing.assert_allclose(losses.cross_entropy(DE_SOURCE, Y_E_S),
                             _ce(DE_SOURCE, Y_E_S), rtol=1e-6)
  # By hand, example 0: -log(e^0 / (e^2 + e^0 + e^-1)).
  hand = -np.log(1 / (np.e**2 + 1 + np.e**-1))
  np.testing.assert_allclose(losses.cross_entropy(DE_SOURCE[:1], Y_E_S[:1]),
                             hand, rtol=1e-6)


def test_cross_entropy_skips_unknown_labels():
  labels = np.array([2, -1], np.int32)
  np.testing.assert_allclose(losses.cross_entropy(DI, labels),
                             _ce(DI[:1], labels[:1]), rtol=1e-6)
  assert float(losses.cross_entropy(DI, np.array([-1, -1]))) == 0.0


def test_fake_cross_entropy():
  fake = np.array([2, 2])
  np.testing.assert_allclose(losses.fake_cross_entropy(DE_FAKE),
                             _ce(DE_FAKE, fake), rtol=1e-6)


def test_adversarial_loss_is_minus_log_not_fake():
  p_fake = _softmax(DE_FAKE.astype(np.float64))[:, 2]
  np.testing.assert_allclose(losses.adversarial_loss(DE_FAKE),
                             np.mean(-np.log(1 - p_fake)), rtol=1e-6)


def test_adversarial_loss_stable_when_p_fake_rounds_to_one():
  # p_fake = 1 - e^-100 (1.0 in float32): log(1 - p) would be -inf; the
  # logsumexp form gives the exact value, 100 + log(1 + e^-100) ~ 100.
  z = jnp.array([[0.0, -1e9, 100.0]], jnp.float32)
  value = float(losses.adversarial_loss(z))
  assert np.isfinite(value)
  np.testing.assert_allclose(value, 100.0, rtol=1e-6)


def test_pixel_loss_is_mean_absolute_error():
  # |0.5| + |-0.5| + |2| + |-0.5| = 3.5, over 4 values.
  np.testing.assert_allclose(losses.pixel_loss(X_BAR, X_TG), 3.5 / 4)


def test_d_loss_weights_and_terms():
  total, terms = losses.d_loss(DE_FAKE, DE_SOURCE, DI, Y_E_S, Y_I_T, LAMBDAS)
  d_fake = _ce(DE_FAKE, np.array([2, 2]))
  d_exp = _ce(DE_SOURCE, Y_E_S)
  d_id = _ce(DI, Y_I_T)
  np.testing.assert_allclose(terms['d_fake'], d_fake, rtol=1e-6)
  np.testing.assert_allclose(terms['d_exp'], d_exp, rtol=1e-6)
  np.testing.assert_allclose(terms['d_id'], d_id, rtol=1e-6)
  np.testing.assert_allclose(total, 0.7 * d_fake + 50 * d_exp + 30 * d_id,
                             rtol=1e-6)
  np.testing.assert_allclose(terms['d_total'], total)


def test_pixel_change_weight_by_hand():
  """7x7 faces, x_tg = x_t but for the centre pixel: the 5x5 window spreads
  the change over the 25 pixels around it, c = 49/25 there and 0 elsewhere;
  with α = 1 their error weighs (1 + 49/25)/2 = 1.48, the others' 0.5 (mean
  weight 1)."""
  x_t = np.zeros((1, 7, 7, 3), np.float32)
  x_tg = x_t.copy()
  x_tg[0, 3, 3] = 1.0
  c = np.asarray(losses.change_map(x_tg, x_t))[0, ..., 0]
  block = np.zeros((7, 7), bool)
  block[1:6, 1:6] = True
  np.testing.assert_allclose(c[block], 49 / 25, rtol=1e-6)
  np.testing.assert_allclose(c[~block], 0.0)
  for (row, col), weight in [((3, 3), 1.48), ((0, 0), 0.5), ((1, 5), 1.48)]:
    x_bar = x_tg.copy()
    x_bar[0, row, col] += 1.0  # Error 1 in each channel of one pixel.
    np.testing.assert_allclose(losses.pixel_loss(x_bar, x_tg, x_t, 1.0),
                               weight / 49, rtol=1e-6)
    np.testing.assert_allclose(losses.pixel_loss(x_bar, x_tg), 1 / 49,
                               rtol=1e-6)
  # The weights are constants: x_t and x_tg get no gradient through them.
  x_bar = x_tg + 0.5
  grad_t = jax.grad(lambda t: losses.pixel_loss(x_bar, x_tg, t, 1.0))(x_t)
  np.testing.assert_array_equal(grad_t, 0.0)


def test_pixel_change_weight_times_saliency_by_hand():
  """9x9 faces, x_tg = x_t but for two pixels, (2, 2) and (6, 6): c is 1 on
  each one's 5x5 block (0 where no block reaches). A saliency that is 1 at
  (2, 2) and 0 elsewhere smooths to 1/25 on its block: the product keeps
  (2, 2)'s block alone, at mean 1 per image; at share 1/2 half of the map
  keeps its old shape, and outside a frame all of it."""
  x_t = np.zeros((1, 9, 9, 3), np.float32)
  x_tg = x_t.copy()
  x_tg[0, 2, 2] = x_tg[0, 6, 6] = 1.0
  plain = np.asarray(losses.change_map(x_tg, x_t))[0, ..., 0]
  first, second = np.zeros((9, 9), bool), np.zeros((9, 9), bool)
  first[0:5, 0:5] = True
  second[4:9, 4:9] = True
  np.testing.assert_allclose(plain[first ^ second], 81 / 50, rtol=1e-6)
  np.testing.assert_allclose(plain[first & second], 81 / 25, rtol=1e-6)
  saliency = np.zeros((1, 9, 9, 1), np.float32)
  saliency[0, 2, 2] = 5.0
  c = np.asarray(losses.change_map(x_tg, x_t, saliency))[0, ..., 0]
  # The saliency's scale does not matter.
  np.testing.assert_allclose(losses.change_map(x_tg, x_t, 0.01 * saliency),
                             c[None, ..., None], rtol=1e-5)
  np.testing.assert_allclose(c.mean(), 1.0, rtol=1e-6)
  # On first's block both factors are constant but where second's overlaps
  # (c twice as large there); nothing outside first's block.
  expected = np.where(first, np.where(second, 2.0, 1.0), 0.0)
  np.testing.assert_allclose(c, expected / expected.mean(), rtol=1e-6)
  # Half of the map shaped by the saliency: c·(1/2 + s/2), s = 81/25 on
  # first's block (the smoothed saliency over its mean), 0 elsewhere.
  half = plain * (0.5 + 0.5 * np.where(first, 81 / 25, 0.0))
  np.testing.assert_allclose(
      losses.change_map(x_tg, x_t, saliency, 0.5)[0, ..., 0],
      half / half.mean(), rtol=1e-5)
  # Outside a 1-px frame (border 1/9) the map keeps its own shape.
  inside = np.zeros((9, 9), bool)
  inside[1:8, 1:8] = True
  framed = plain * np.where(inside, np.where(first, 81 / 25, 0.0), 1.0)
  np.testing.assert_allclose(
      losses.change_map(x_tg, x_t, saliency, 1.0, 1 / 9)[0, ..., 0],
      framed / framed.mean(), rtol=1e-5)
  x_bar = x_tg.copy()
  x_bar[0, 8, 8] += 1.0  # An error where the saliency is 0 weighs 1/(1 + α).
  np.testing.assert_allclose(
      losses.pixel_loss(x_bar, x_tg, x_t, 3.0, saliency), 0.25 / 81,
      rtol=1e-6)


def test_reader_saliency_needs_the_reader_and_the_change_weight():
  config = ml_collections.ConfigDict(dict(LAMBDAS))
  config.pixel_change_saliency = 1.0
  for reader, weight in [(0.0, 16.0), (300.0, 0.0)]:
    config.lambda_reader, config.pixel_change_weight = reader, weight
    with pytest.raises(ValueError, match='pixel_change_saliency .* needs '):
      losses.check_loss_config(config)
  config.lambda_reader, config.pixel_change_weight = 300.0, 16.0
  losses.check_loss_config(config)
  for share in (-0.1, 1.5):
    config.pixel_change_saliency = share
    with pytest.raises(ValueError, match=r'must be in \[0, 1\]'):
      losses.check_loss_config(config)


def test_reader_feature_loss_by_hand():
  """Two blocks: block 0 real [1, -3] (mean |.| 2), fake [2, -2] (error 1
  per element): 1/2; block 1 real [[4]], fake [[1]]: 3/4. Mean 0.625. The
  gradient reaches the fake activations only: sign(fake − real) / (elements
  · mean|real| · blocks)."""
  real = [np.array([[1.0, -3.0]]), np.array([[4.0]])]
  fake = [np.array([[2.0, -2.0]]), np.array([[1.0]])]
  np.testing.assert_allclose(losses.reader_feature_loss(fake, real), 0.625,
                             rtol=1e-6)
  grad_fake, grad_real = jax.grad(losses.reader_feature_loss, (0, 1))(fake,
                                                                       real)
  np.testing.assert_allclose(grad_fake[0], [[1 / 8, 1 / 8]], rtol=1e-6)
  np.testing.assert_allclose(grad_fake[1], [[-1 / 8]], rtol=1e-6)
  for g in grad_real:
    np.testing.assert_array_equal(g, 0.0)
  np.testing.assert_allclose(losses.reader_feature_loss(real, real), 0.0)
  with pytest.raises(ValueError, match='blocks'):
    losses.reader_feature_loss(fake, real[:1])


def test_reader_view_frames_x_bar_in_x_tg_border():
  """At 8x8 with border 0.25 (2 px): the inner 4x4 is x_bar's, the frame
  x_tg's; the gradient reaches x_bar's inner 4x4 only, never x_tg; border 0
  is x_bar itself."""
  rng = np.random.default_rng(0)
  x_bar = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
  x_tg = rng.normal(size=(2, 8, 8, 3)).astype(np.float32)
  inner = np.zeros((8, 8), bool)
  inner[2:6, 2:6] = True
  view = np.asarray(losses.reader_view(x_bar, x_tg, 0.25))
  np.testing.assert_array_equal(view[:, inner], x_bar[:, inner])
  np.testing.assert_array_equal(view[:, ~inner], x_tg[:, ~inner])
  grad_bar, grad_tg = jax.grad(
      lambda a, b: jnp.sum(losses.reader_view(a, b, 0.25)), (0, 1))(x_bar,
                                                                   x_tg)
  np.testing.assert_array_equal(np.asarray(grad_bar)[:, inner], 1.0)
  np.testing.assert_array_equal(np.asarray(grad_bar)[:, ~inner], 0.0)
  np.testing.assert_array_equal(grad_tg, 0.0)
  np.testing.assert_array_equal(losses.reader_view(x_bar, x_tg, 0.0), x_bar)


@pytest.mark.parametrize('border', [-0.1, 0.5])
def test_reader_border_outside_its_range_is_rejected(border):
  bad = ml_collections.ConfigDict(dict(LAMBDAS))
  bad.reader_border = border
  with pytest.raises(ValueError, match='config.loss.reader_border'):
    losses.check_loss_config(bad)


def test_g_loss_weights_and_terms():
  x_bar = np.broadcast_to(X_BAR, (2, 1, 2, 2))
  x_tg = np.broadcast_to(X_TG, (2, 1, 2, 2))
  total, terms = losses.g_loss(DE_FAKE, DI, x_bar, x_tg, Y_E_S, Y_I_T,
                               LAMBDAS)
  g_adv = np.mean(-np.log(1 - _softmax(DE_FAKE.astype(np.float64))[:, 2]))
  g_pix = 3.5 / 4
  g_exp = _ce(DE_FAKE, Y_E_S)
  g_id = _ce(DI, Y_I_T)
  for name, hand in [('g_adv', g_adv), ('g_pix', g_pix), ('g_exp', g_exp),
                     ('g_id', g_id)]:
    np.testing.assert_allclose(terms[name], hand, rtol=1e-6, err_msg=name)
  np.testing.assert_allclose(
      total, 0.7 * g_adv + 20 * g_pix + 50 * g_exp + 30 * g_id, rtol=1e-6)


def test_g_loss_pixel_scale_and_d_terms_scale():
  """pixel_scale multiplies only the pixel term, d_scale only the D-judged
  ones; the logged g_pix stays the plain mean absolute error."""
  x_bar = np.broadcast_to(X_BAR, (2, 1, 2, 2))
  x_tg = np.broadcast_to(X_TG, (2, 1, 2, 2))
  config = ml_collections.ConfigDict(dict(LAMBDAS))
  config.pixel_scale = 127.5
  _, plain = losses.g_loss(DE_FAKE, DI, x_bar, x_tg, Y_E_S, Y_I_T, LAMBDAS)
  judged = (0.7 * plain['g_adv'] + 50 * plain['g_exp'] + 30 * plain['g_id'])
  for d_scale in (0.0, 0.25, 1.0):
    total, terms = losses.g_loss(DE_FAKE, DI, x_bar, x_tg, Y_E_S, Y_I_T,
                                 config, d_scale)
    np.testing.assert_allclose(terms['g_pix'], 3.5 / 4, rtol=1e-6)
    np.testing.assert_allclose(
        total, 20 * 127.5 * 3.5 / 4 + d_scale * judged, rtol=1e-6)


def test_d_terms_warmup_schedule():
  config = ml_collections.ConfigDict(dict(LAMBDAS))
  config.d_terms_warmup = 0.3
  assert losses.warmup_steps(config, 1000) == 300
  assert losses.warmup_steps(ml_collections.ConfigDict(dict(LAMBDAS)), 1000) == 0
  scale = [float(losses.d_terms_scale(np.int32(s), 300))
           for s in (0, 150, 300, 900)]
  np.testing.assert_allclose(scale, [0.0, 0.5, 1.0, 1.0])
  assert float(losses.d_terms_scale(np.int32(0), 0)) == 1.0  # No warm-up.
  config.d_terms_warmup = 1.5
  with pytest.raises(ValueError, match='d_terms_warmup'):
    losses.check_loss_config(config)


@pytest.mark.parametrize('name', ['lambda_id', 'pixel_change_weight',
                                  'lambda_reader'])
def test_negative_lambda_is_rejected(name):
  bad = ml_collections.ConfigDict(dict(LAMBDAS))
  bad[name] = -1.0
  with pytest.raises(ValueError, match=f'config.loss.{name}'):
    losses.check_loss_config(bad)


def test_negative_contrast_weight_and_zero_temperature_are_rejected():
  bad = ml_collections.ConfigDict(dict(LAMBDAS))
  bad.lambda_fe_contrast = -1.0
  with pytest.raises(ValueError, match='config.loss.lambda_fe_contrast'):
    losses.check_loss_config(bad)
  bad.lambda_fe_contrast, bad.fe_contrast_temperature = 1.0, 0.0
  with pytest.raises(ValueError, match='fe_contrast_temperature'):
    losses.check_loss_config(bad)


# Four codes: two pairs of orthogonal directions (cosines 1 within a pair, 0
# across). For anchor 0 the others score [1, 0, 0] / T, its positive is code
# 1: l_0 = -log(e^{1/T} / (e^{1/T} + 2)); every anchor alike.
CODES = np.array([[2.0, 0.0], [0.5, 0.0], [0.0, 3.0], [0.0, 1.0]], np.float32)


def test_expression_contrast_by_hand():
  for t in (1.0, 0.5):
    expected = -np.log(np.exp(1 / t) / (np.exp(1 / t) + 2))
    np.testing.assert_allclose(
        losses.expression_contrast(CODES, np.array([0, 0, 1, 1]), t),
        expected, rtol=1e-6)
  # Scale-free: shrinking the codes cannot lower it.
  np.testing.assert_allclose(
      losses.expression_contrast(1e-3 * CODES, np.array([0, 0, 1, 1]), 1.0),
      np.log(np.e + 2) - 1, rtol=1e-5)
  # Labels that pair codes across the directions: the positive scores 0, the
  # negatives 1 and 0 (anchor 0: others [1, 0, 0], positive code 2).
  np.testing.assert_allclose(
      losses.expression_contrast(CODES, np.array([0, 1, 0, 1]), 1.0),
      -np.log(1 / (np.e + 2)), rtol=1e-6)


def test_expression_contrast_unknown_labels_and_no_positive():
  # Codes 2, 3 unknown: no anchors, but negatives of anchors 0 and 1.
  np.testing.assert_allclose(
      losses.expression_contrast(CODES, np.array([0, 0, -1, -1]), 1.0),
      np.log(np.e + 2) - 1, rtol=1e-6)
  # Nobody has a positive: 0, with finite gradients.
  labels = np.array([0, 1, 2, -1])
  assert float(losses.expression_contrast(CODES, labels, 0.1)) == 0.0
  grad = jax.grad(losses.expression_contrast)(jnp.asarray(CODES), labels,
                                               0.1)
  assert np.all(np.isfinite(grad))


def test_expression_contrast_over_devices_equals_one_device():
  """With axis_name every device computes the loss over the whole batch (the
  same value). Each device's gradient of its share of the codes is then the
  device count times the one-device gradient (the gather's transpose sums the
  devices' identical losses), which the caller's pmean of the parameter
  gradients divides out again."""
  rng = np.random.default_rng(0)
  codes = rng.standard_normal((8, 5)).astype(np.float32)
  labels = np.array([0, 1, 2, 0, 1, 2, 0, -1])
  value, grad = jax.value_and_grad(losses.expression_contrast)(
      codes, labels, 0.2)
  mesh = jax.sharding.Mesh(np.asarray(jax.devices()[:2]), ('data',))

  def per_device(f, y):
    v, g = jax.value_and_grad(losses.expression_contrast)(
        f, y, 0.2, axis_name='data')
    return lax.pmean(v, 'data'), g
  mapped = jax.shard_map(per_device, mesh=mesh,
                         in_specs=(P('data'), P('data')),
                         out_specs=(P(), P('data')))
  value2, grad2 = jax.jit(mapped)(codes, labels)
  np.testing.assert_allclose(value2, value, rtol=1e-6)
  np.testing.assert_allclose(grad2 / 2, grad, rtol=1e-5, atol=1e-7)


def test_accuracy():
  np.testing.assert_allclose(losses.accuracy(DE_SOURCE, np.array([0, 0])), 0.5)
  np.testing.assert_allclose(
      losses.accuracy(DE_SOURCE, np.array([0, 1]),
                      mask=np.array([True, False])), 1.0)
