"""REL-GAN stage-1 losses (DESIGN.md §3, the paper's Eqs. 1-4).

Paper names: x_s (source face, gives the expression y_e^s), x_t (target face,
gives the identity y_i^t), x_tg (real photo of the target person with the
source's expression), x_bar = Gde(Ges(x_s), Get(x_t)) (the reenacted face).
De has Ne + 1 logits, the last one (index Ne) meaning "fake"; Di has Ni
logits. CE = softmax cross-entropy.

  L_D = λ1·CE(De(x_bar), fake) + λ3·CE(De(x_s), y_e^s) + λ4·CE(Di(x_t), y_i^t)
  L_G = λ1·L_adv + λ2·|x_bar − x_tg|_1 + λ3·CE(De(x_bar), y_e^s)
        + λ4·CE(Di(x_bar), y_i^t)
  L_adv = −log(1 − softmax(De(x_bar))[fake])

The pixel term's error may be weighted per pixel by where x_tg differs from
x_t (config.loss.pixel_change_weight > 0; not in the paper, `pixel_loss`);
at 0, the default, it is the paper's mean absolute error.

An expression-contrast term on f(e) (not in the paper; README, "Choices")
is added to L_G when λ5 = config.loss.lambda_fe_contrast > 0:

  L_G += λ5·SupCon(f(e) of [x_s; x_tg], labels [y_e^s; y_e^s])

(`expression_contrast`). Every pair holds two faces of different people with
one expression (x_s, x_tg): the term says directly what the reenactment says
through Gde and De, that f(e) follows the expression and not the person. It
reaches Ges only.

A perceptual term in a frozen expression network's features (not in the
paper) is added to L_G when λ6 = config.loss.lambda_reader > 0:

  L_G += λ6·reader_feature_loss(R(reader_view(x_bar, x_tg)), R(x_tg))

(`reader_feature_loss`; R and why: relgan_jax/stage1/expression_reader.py).
R reads x_bar inside a frame of x_tg's own border (config.loss.reader_border,
`reader_view`): it judges the face, and no reader gradient reaches the crop's
edges.

G's three terms that are judged by D (adv, exp, id) are scaled by
`d_terms_scale` (1 by default): a linear warm-up from 0 over the first
config.loss.d_terms_warmup of stage 1 (`warmup_steps`), so that G learns to
reconstruct while D's heads learn to classify real faces, and G relies on
De and Di only once they carry signal (DESIGN.md §3 leaves the schedule
open; README, "Choices").

Everything is computed from logits in float32 with log-softmax / logsumexp; no
probability is ever subtracted from 1. A label < 0 (unknown, e.g. SFEW's
identities) is left out of its cross-entropy; a term with no known label is 0.
"""

from typing import Dict, Optional, Sequence, Tuple

from jax import lax
import jax.numpy as jnp
import jax.nn
import ml_collections

Metrics = Dict[str, jnp.ndarray]


def cross_entropy(logits: jnp.ndarray, labels: jnp.ndarray) -> jnp.ndarray:
  """Mean softmax cross-entropy over the examples whose label is >= 0.

  Args:
    logits: [B, K] unnormalised scores.
    labels: [B] int class indices in [0, K), or < 0 for "unknown".

  Returns:
    A float32 scalar (0 when no label is known).
  """
  logits = logits.astype(jnp.float32)
  log_p = jax.nn.log_softmax(logits, axis=-1)
  valid = labels >= 0
  safe = jnp.where(valid, labels, 0)
  nll = -jnp.take_along_axis(log_p, safe[:, None], axis=-1)[:, 0]
  count = jnp.sum(valid)
  return jnp.sum(jnp.where(valid, nll, 0.0)) / jnp.maximum(count, 1)


def fake_cross_entropy(de_logits: jnp.ndarray) -> jnp.ndarray:
  """CE(De(x), fake): mean of −log softmax(De)[Ne] (fake = the last class)."""
  de_logits = de_logits.astype(jnp.float32)
  return jnp.mean(jax.nn.logsumexp(de_logits, axis=-1) - de_logits[:, -1])


def adversarial_loss(de_logits: jnp.ndarray) -> jnp.ndarray:
  """L_adv = mean of −log(1 − p_fake), p = softmax(De(x_bar)).

  1 − p_fake = Σ_{k≠fake} e^{z_k} / Σ_k e^{z_k}, so
  −log(1 − p_fake) = logsumexp(z) − logsumexp(z without fake): exact and
  finite even when p_fake rounds to 1.
  """
  de_logits = de_logits.astype(jnp.float32)
  return jnp.mean(jax.nn.logsumexp(de_logits, axis=-1)
                  - jax.nn.logsumexp(de_logits[:, :-1], axis=-1))


def pixel_loss(x_bar: jnp.ndarray, x_tg: jnp.ndarray,
               x_t: Optional[jnp.ndarray] = None,
               change_weight: float = 0.0,
               saliency: Optional[jnp.ndarray] = None,
               saliency_share: float = 1.0,
               saliency_border: float = 0.0) -> jnp.ndarray:
  """|x_bar − x_tg|_1 as the mean absolute error over all pixels/channels.

  With `change_weight` α > 0 (and x_t given), each pixel's error is weighted
  by (1 + α·c / mean(c)) / (1 + α), c = |x_tg − x_t| averaged over channels
  and a 5x5 neighbourhood: x_t and x_tg are one person under one geometric
  draw, so c marks where the expression changes the face. The weights
  average to 1 per image (the term keeps its scale) and are constants.
  With `saliency` [B, S, S, 1] (where the frozen expression reader finds
  x_tg's expression), `saliency_share` σ of c is shaped by it inside a
  frame of `saliency_border` (config.loss.pixel_change_saliency and
  reader_border; `change_map`).
  """
  error = jnp.abs(x_bar.astype(jnp.float32) - x_tg.astype(jnp.float32))
  if not change_weight:
    return jnp.mean(error)
  if x_t is None:
    raise ValueError('pixel_loss: change_weight > 0 needs x_t.')
  change = change_map(x_tg, x_t, saliency, saliency_share, saliency_border)
  weight = (1.0 + change_weight * change) / (1.0 + change_weight)
  return jnp.mean(error * weight)


def change_map(x_tg: jnp.ndarray, x_t: jnp.ndarray,
               saliency: Optional[jnp.ndarray] = None,
               saliency_share: float = 1.0,
               saliency_border: float = 0.0) -> jnp.ndarray:
  """c / mean(c) per image, [B, S, S, 1], c = |x_tg − x_t| averaged over
  channels and a 5x5 window (zeros beyond the border); constant for G.
  With `saliency` [B, S, S, 1], c (over its mean) is multiplied by
  (1 − σ) + σ·s, s the 5x5-smoothed saliency over its own mean, σ =
  `saliency_share`: at 1 the product, at 1/2 half of c kept as it was.
  Outside a frame of `saliency_border` (a fraction of the side at each
  edge) c keeps its own shape: there only the pixel term and D judge
  x_bar (the reader reads x_bar inside that frame, `reader_view`), and a
  corner the saliency leaves without weight can run away."""
  diff = jnp.mean(jnp.abs(x_tg.astype(jnp.float32) - x_t.astype(jnp.float32)),
                  axis=-1, keepdims=True)
  local = _box5(diff)
  if saliency is not None:
    factor = ((1.0 - saliency_share)
              + saliency_share * _over_mean(_box5(saliency.astype(
                  jnp.float32))))
    inside = _inside_frame(x_tg.shape[1], saliency_border)
    if inside is not None:
      factor = jnp.where(inside, factor, 1.0)
    local = _over_mean(local) * factor
  return lax.stop_gradient(_over_mean(local))


def _box5(x: jnp.ndarray) -> jnp.ndarray:
  """The mean over each pixel's 5x5 window, zeros beyond the border."""
  return lax.reduce_window(x, 0.0, lax.add, (1, 5, 5, 1), (1, 1, 1, 1),
                           'SAME') / 25.0


def _over_mean(x: jnp.ndarray) -> jnp.ndarray:
  """x divided by its mean over each image ([B, S, S, 1])."""
  return x / jnp.maximum(jnp.mean(x, axis=(1, 2, 3), keepdims=True), 1e-6)


def reader_feature_loss(fake_blocks: Sequence[jnp.ndarray],
                        real_blocks: Sequence[jnp.ndarray]) -> jnp.ndarray:
  """The expression reader's perceptual term (config.loss.lambda_reader):

    mean over blocks k of mean|a_k − b_k| / mean|b_k|,

  a_k, b_k the frozen reader's block-k activations of x_bar and of x_tg
  (stage1/expression_reader.py). Dividing by the real face's mean activation
  gives every block the same say whatever its scale; b_k is a constant
  target.
  """
  if len(fake_blocks) != len(real_blocks) or not fake_blocks:
    raise ValueError(f'reader_feature_loss: {len(fake_blocks)} and '
                     f'{len(real_blocks)} blocks.')
  errors = []
  for fake, real in zip(fake_blocks, real_blocks):
    real = lax.stop_gradient(real.astype(jnp.float32))
    error = jnp.mean(jnp.abs(fake.astype(jnp.float32) - real))
    errors.append(error / jnp.maximum(jnp.mean(jnp.abs(real)), 1e-6))
  return sum(errors) / len(errors)


def reader_view(x_bar: jnp.ndarray, x_tg: jnp.ndarray,
                border: float) -> jnp.ndarray:
  """x_bar with its outer `border` (a fraction of the image's side, at each
  edge; config.loss.reader_border) replaced by x_tg's, held fixed: what the
  reader R reads of x_bar. The frame is then R's real face's own, so R's
  term judges the face inside it and sends x_bar's edges no gradient.
  border 0: x_bar itself."""
  mask = _inside_frame(x_bar.shape[1], border)
  if mask is None:
    return x_bar
  return jnp.where(mask, x_bar, lax.stop_gradient(x_tg))


def _inside_frame(size: int, border: float) -> Optional[jnp.ndarray]:
  """[1, size, size, 1] bool, True inside the outer `border` (a fraction of
  the side, at each edge); None when the frame is empty."""
  width = int(round(border * size))
  if width <= 0:
    return None
  rows = jnp.arange(size)
  inside = (rows >= width) & (rows < size - width)
  return (inside[:, None] & inside[None, :])[None, :, :, None]


def check_loss_config(loss_config: ml_collections.ConfigDict) -> None:
  """Raises ValueError naming a negative λ in config.loss, a contrast
  temperature <= 0, a warm-up fraction outside [0, 1], the reader's saliency
  without the reader or the change weight, or a reader frame outside
  [0, 0.5)."""
  for name in ('lambda_adv', 'lambda_pix', 'lambda_exp', 'lambda_id',
               'lambda_fe_contrast', 'pixel_scale', 'pixel_change_weight',
               'lambda_reader'):
    if loss_config[name] < 0:
      raise ValueError(f'config.loss.{name} must be >= 0, got '
                       f'{loss_config[name]}.')
  if loss_config.fe_contrast_temperature <= 0:
    raise ValueError('config.loss.fe_contrast_temperature must be > 0, got '
                     f'{loss_config.fe_contrast_temperature}.')
  warmup = loss_config.d_terms_warmup
  if not 0.0 <= warmup <= 1.0:
    raise ValueError(f'config.loss.d_terms_warmup must be in [0, 1] (a '
                     f'fraction of stage 1), got {warmup}.')
  share = loss_config.pixel_change_saliency
  if not 0.0 <= share <= 1.0:
    raise ValueError('config.loss.pixel_change_saliency must be in [0, 1] '
                     f'(the share of the change map the reader shapes), got '
                     f'{share}.')
  if share > 0 and not (loss_config.lambda_reader > 0
                        and loss_config.pixel_change_weight > 0):
    raise ValueError('config.loss.pixel_change_saliency weighs the pixel '
                     'term with the expression reader\'s saliency: it needs '
                     'config.loss.lambda_reader > 0 and '
                     'config.loss.pixel_change_weight > 0.')
  border = loss_config.reader_border
  if not 0.0 <= border < 0.5:
    raise ValueError(f'config.loss.reader_border must be in [0, 0.5) (a '
                     f'fraction of the image side at each edge), got '
                     f'{border}.')


def warmup_steps(loss_config: ml_collections.ConfigDict,
                 total_steps: int) -> int:
  """Iterations over which G's D-judged terms ramp up (0 = no warm-up)."""
  return int(round(loss_config.d_terms_warmup * total_steps))


def d_terms_scale(step: jnp.ndarray, ramp_steps: int) -> jnp.ndarray:
  """min(1, step / ramp_steps): the weight of G's D-judged terms at `step`
  (completed iterations); 1 when ramp_steps <= 0."""
  if ramp_steps <= 0:
    return jnp.ones((), jnp.float32)
  return jnp.minimum(1.0, step.astype(jnp.float32) / ramp_steps)


def d_loss(de_fake: jnp.ndarray, de_source: jnp.ndarray,
           di_target: jnp.ndarray, y_e_s: jnp.ndarray, y_i_t: jnp.ndarray,
           loss_config: ml_collections.ConfigDict
           ) -> Tuple[jnp.ndarray, Metrics]:
  """L_D (Eq. 1/3 of the paper as DESIGN.md §3 pins it down).

  Args:
    de_fake: De(x_bar) logits [B, Ne + 1].
    de_source: De(x_s) logits [B, Ne + 1].
    di_target: Di(x_t) logits [B, Ni].
    y_e_s: expression labels of x_s [B].
    y_i_t: identity labels of x_t [B] (< 0 = unknown).
    loss_config: config.loss (the λs).

  Returns:
    (L_D, metrics with the unweighted terms d_fake, d_exp, d_id and d_total).
  """
  terms = {
      'd_fake': fake_cross_entropy(de_fake),
      'd_exp': cross_entropy(de_source, y_e_s),
      'd_id': cross_entropy(di_target, y_i_t),
  }
  total = (loss_config.lambda_adv * terms['d_fake']
           + loss_config.lambda_exp * terms['d_exp']
           + loss_config.lambda_id * terms['d_id'])
  terms['d_total'] = total
  return total, terms


def g_loss(de_fake: jnp.ndarray, di_fake: jnp.ndarray, x_bar: jnp.ndarray,
           x_tg: jnp.ndarray, y_e_s: jnp.ndarray, y_i_t: jnp.ndarray,
           loss_config: ml_collections.ConfigDict,
           d_scale: jnp.ndarray | float = 1.0,
           x_t: Optional[jnp.ndarray] = None,
           saliency: Optional[jnp.ndarray] = None,
           ) -> Tuple[jnp.ndarray, Metrics]:
  """L_G (Eq. 2/4 of the paper as DESIGN.md §3 pins it down).

  Args:
    de_fake: De(x_bar) logits [B, Ne + 1].
    di_fake: Di(x_bar) logits [B, Ni].
    x_bar: the reenacted faces [B, S, S, 3] in [-1, 1].
    x_tg: the real target-with-source-expression faces, same shape and range.
    y_e_s: expression labels of x_s [B].
    y_i_t: identity labels of x_t [B] (< 0 = unknown).
    loss_config: config.loss (the λs).
    d_scale: multiplies λ1, λ3 and λ4 (the D-judged terms; `d_terms_scale`).
    x_t: the target faces, for config.loss.pixel_change_weight > 0.
    saliency: where the expression reader finds x_tg's expression [B, S, S,
      1], when config.loss.pixel_change_saliency > 0 (`pixel_loss`).

  Returns:
    (L_G, metrics with the unweighted terms g_adv, g_pix, g_exp, g_id and
    g_total).
  """
  terms = {
      'g_adv': adversarial_loss(de_fake),
      'g_pix': pixel_loss(x_bar, x_tg, x_t, loss_config.pixel_change_weight,
                          saliency, loss_config.pixel_change_saliency,
                          loss_config.reader_border),
      'g_exp': cross_entropy(de_fake, y_e_s),
      'g_id': cross_entropy(di_fake, y_i_t),
  }
  judged = (loss_config.lambda_adv * terms['g_adv']
            + loss_config.lambda_exp * terms['g_exp']
            + loss_config.lambda_id * terms['g_id'])
  total = (loss_config.lambda_pix * loss_config.pixel_scale * terms['g_pix']
           + d_scale * judged)
  terms['g_total'] = total
  return total, terms


def expression_contrast(f_e: jnp.ndarray, labels: jnp.ndarray,
                        temperature: float,
                        axis_name: Optional[str] = None) -> jnp.ndarray:
  """Supervised contrastive loss (Khosla et al., 2020) over a batch of codes.

  Codes are compared by cosine similarity / temperature. For each anchor i
  with at least one positive (another example with the same label >= 0):
    l_i = −mean over positives p of log( e^{s_ip} / Σ_{k≠i} e^{s_ik} ),
  and the loss is the mean of l_i over those anchors (0 if there are none).
  Unknown labels (< 0) are neither anchors nor positives, but still
  negatives. Scale-free: shrinking f(e) cannot lower it.

  Args:
    f_e: [N, D] codes.
    labels: [N] int expression labels (< 0 = unknown).
    temperature: the softmax temperature (> 0).
    axis_name: inside shard_map, the mapped axis: the loss is then computed
      over the codes of every device (all-gathered), the same value on each
      device, so that it does not depend on how the batch is split (the
      gradient reaches each device's codes through the gather's transpose;
      the caller averages the parameter gradients over the axis, as always).

  Returns:
    A float32 scalar.
  """
  z = f_e.astype(jnp.float32)
  if axis_name is not None:
    z = lax.all_gather(z, axis_name, tiled=True)
    labels = lax.all_gather(labels, axis_name, tiled=True)
  z = z * lax.rsqrt(jnp.sum(z * z, axis=-1, keepdims=True) + 1e-12)
  n = z.shape[0]
  self_pair = jnp.eye(n, dtype=bool)
  # A large negative, not -inf, keeps the self-pair out of the softmax
  # without an inf in the backward pass.
  logits = jnp.where(self_pair, -1e9, z @ z.T / temperature)
  log_p = logits - jax.nn.logsumexp(logits, axis=-1, keepdims=True)
  positive = ((labels[:, None] == labels[None, :]) & ~self_pair
              & (labels[:, None] >= 0))
  num_positive = jnp.sum(positive, axis=-1)
  per_anchor = (-jnp.sum(jnp.where(positive, log_p, 0.0), axis=-1)
                / jnp.maximum(num_positive, 1))
  anchor = num_positive > 0
  return (jnp.sum(jnp.where(anchor, per_anchor, 0.0))
          / jnp.maximum(jnp.sum(anchor), 1))


def accuracy(logits: jnp.ndarray, labels: jnp.ndarray,
             mask: Optional[jnp.ndarray] = None) -> jnp.ndarray:
  """Fraction of (known-label, unmasked) examples whose argmax is the label."""
  valid = labels >= 0
  if mask is not None:
    valid = valid & mask
  hit = (jnp.argmax(logits, axis=-1) == labels) & valid
  return jnp.sum(hit) / jnp.maximum(jnp.sum(valid), 1)
