"""Procedural cartoon faces: identity as a strong nuisance, expression as a subtle cue.

Used by `relgan_jax.data.synthetic_set`. A face is drawn with Pillow polygons in
normalised coordinates ([0, 1]^2, x right, y down) on a 3x super-sampled canvas,
then reduced to the stored size. Everything that makes a person (face shape,
skin, hair, eyes, nose, brows, glasses, beard, background, clothes) comes from
`synthetic_people.sample_identity`; the expression (mouth, brows, eyelids, a
few wrinkles) from `synthetic_people.EXPRESSIONS` scaled by an intensity.

The faces are what `data_prep.prepare` makes of real photos (DESIGN.md §7,
§10): eye-aligned crops. Each face is placed by the similarity transform that
puts its eye centres on `align.DEFAULT_EYE_TEMPLATE`, then every image adds
only what real alignment and a real capture session leave: a residual
misalignment of about a pixel (`RESIDUAL`), a slight head yaw, and sensor
noise. Lighting belongs to the person's session (`sample_identity`), with a
small per-image flicker, as in the lab datasets where one subject's frames
are taken in one sitting. Per-image rotation, scale or shift of several
pixels would be removed by alignment on real data, and would make the pixel
loss blind to the expression (the mouth would move more with pose than with
the expression).
"""

import math
from typing import Any

import numpy as np
from PIL import Image
from PIL import ImageDraw

from relgan_jax.data import align
from relgan_jax.data import synthetic_people

# Where the drawing puts the eye centres before alignment (normalised units):
# (0.5 +- eye_sep + yaw, EYE_Y).
EYE_Y = 0.43
# Per-image residual misalignment after eye alignment (uniform ranges): about
# +-1 pixel of a 112-pixel crop in shift, +-1.5 degrees, +-2 % scale; and the
# slight head yaw of a frontal sitting (features move against the outline).
RESIDUAL = dict(rotation=1.5, scale=0.02, shift=0.009, yaw=0.008)


def _rgb(c) -> tuple[int, int, int]:
  return tuple(min(255, max(0, int(round(float(v))))) for v in c)


class _Canvas:
  """Pillow drawing in normalised coordinates under a similarity transform:
  p -> scale * R(rotation) (p - 0.5) + 0.5 + shift."""

  def __init__(self, px: int, rotation: float, scale: float, shift, background):
    self.px = px
    top, bottom = background
    ramp = np.linspace(0, 1, px)[:, None]
    rows = np.clip(top * (1 - ramp) + bottom * ramp, 0, 255).astype(np.uint8)
    self.img = Image.fromarray(rows[:, None], 'RGB').resize(
        (px, px), Image.Resampling.NEAREST)
    self.draw = ImageDraw.Draw(self.img)
    c, s = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
    self._m = np.array([[c, -s], [s, c]]) * scale
    self._shift = np.asarray(shift) + 0.5

  def tf(self, pts):
    pts = np.asarray(pts, float).reshape(-1, 2)
    # A flat [x0, y0, x1, y1, ...] list, as Pillow accepts.
    return (((pts - 0.5) @ self._m.T + self._shift) * self.px).ravel().tolist()

  def polygon(self, pts, fill):
    self.draw.polygon(self.tf(pts), fill=_rgb(fill))

  def ellipse(self, cx, cy, rx, ry, fill, n=40):
    t = np.linspace(0, 2 * np.pi, n, endpoint=False)
    self.polygon(np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], 1), fill)

  def stroke(self, pts, width, fill):
    """A thick curve; `width` is a scalar or one value per point."""
    pts = np.asarray(pts, float)
    tangent = np.gradient(pts, axis=0)
    tangent /= np.linalg.norm(tangent, axis=1, keepdims=True) + 1e-9
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
    half = np.broadcast_to(np.asarray(width, float), (len(pts),))[:, None] / 2
    self.polygon(np.concatenate([pts + normal * half, (pts - normal * half)[::-1]]),
                 fill)


def _face_outline(cx, cy, rw, rh, jaw, square, n=72):
  t = np.linspace(0, 2 * np.pi, n, endpoint=False)
  c, s = np.cos(t), np.sin(t)
  x = np.sign(c) * np.abs(c) ** (2 / square)
  y = np.sign(s) * np.abs(s) ** (2 / square)
  lower = np.clip(s, 0, 1)
  x = x * (1 - jaw * lower ** 2)
  return np.stack([cx + rw * x, cy + rh * y], 1)


def _draw_hair_back(cv, idn, cx, cy, rw, rh):
  style, colour, vol = idn['hair_style'], idn['hair_colour'], idn['hair_volume']
  if style == 'long':
    t = np.linspace(np.pi, 2 * np.pi, 30)
    top = np.stack([cx + (rw + vol + 0.03) * np.cos(t),
                    cy - 0.05 + (rh + vol) * np.sin(t)], 1)
    sides = [[cx + rw + vol + 0.05, 0.98], [cx - rw - vol - 0.05, 0.98]]
    cv.polygon(np.concatenate([top, sides]), colour * 0.85)
  elif style == 'curly':
    for a in np.linspace(np.pi * 0.9, np.pi * 2.1, 11):
      r = 0.055 + vol * 0.5
      cv.ellipse(cx + (rw + 0.01) * np.cos(a), cy - 0.04 + (rh + 0.0) * np.sin(a),
                 r, r, colour * 0.9)
  elif style == 'bun':
    cv.ellipse(cx, cy - rh - 0.05, 0.075, 0.06, colour * 0.9)


def _draw_hair_front(cv, idn, cx, cy, rw, rh, eye_y):
  style, colour, vol = idn['hair_style'], idn['hair_colour'], idn['hair_volume']
  if style == 'bald':
    for side in (-1, 1):
      cv.ellipse(cx + side * (rw - 0.01), eye_y - 0.04, 0.018, 0.05, colour)
    return
  t = np.linspace(np.pi, 2 * np.pi, 36)
  extra = 0.015 if style != 'curly' else 0.03
  top = np.stack([cx + (rw + extra) * np.cos(t),
                  cy + (rh + vol) * np.sin(t) - 0.02], 1)
  top = top[top[:, 1] < eye_y - 0.01]
  xs = np.linspace(top[-1, 0], top[0, 0], 30)
  u = (xs - cx) / rw
  if style == 'fringe':
    line = eye_y - 0.11 + 0.012 * np.cos(u * 18) ** 2 + 0.05 * u ** 4
  elif style == 'side_part':
    line = eye_y - 0.17 + idn['part'] * u + 0.10 * np.abs(u) ** 3
  else:
    line = eye_y - 0.19 + idn['hairline'] + 0.14 * np.abs(u) ** 3
  cv.polygon(np.concatenate([top, np.stack([xs, line], 1)]), colour)


def _draw_eye(cv, idn, p, ex, ey, side):
  """side = -1 for the eye on the image's left, +1 for the right one."""
  ew = idn['eye_w']
  t = np.linspace(-1, 1, 25)
  x = ex + ew * t
  outer = np.clip(t * side, 0, 1)
  hu = ew * idn['eye_open'] * max(0.12, 1 + p['eye_open'])
  hl = ew * 0.35 * max(0.1, 1 - p['eye_lower'])
  tilt = -idn['eye_tilt'] * ew * 0.4 * t * side
  upper = ey - hu * (1 - t ** 2) ** 0.7 + tilt + p['droop'] * hu * 0.45 * outer ** 1.5
  lower = ey + hl * (1 - t ** 2) ** 0.8 + tilt
  cv.polygon(np.concatenate([np.stack([x, upper], 1),
                             np.stack([x, lower], 1)[::-1]]), (245, 245, 242))

  def clipped_disc(r, colour):
    a = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    px, py = ex + r * np.cos(a), ey + r * np.sin(a) - hu * 0.15
    py = np.clip(py, np.interp(px, x, upper), np.interp(px, x, lower))
    cv.polygon(np.stack([px, py], 1), colour)

  clipped_disc(ew * idn['iris'], idn['iris_colour'])
  clipped_disc(ew * idn['iris'] * 0.45, (10, 10, 10))
  lid = idn['skin'] * 0.35
  cv.stroke(np.stack([x, upper], 1), 0.006 + 0.004 * (1 - t ** 2), lid)
  cv.stroke(np.stack([x, lower], 1), 0.0025, idn['skin'] * 0.6)


def _draw_brow(cv, idn, p, ex, ey, side):
  ew = idn['eye_w']
  t = np.linspace(-1, 1, 20)  # -1 = inner end, +1 = outer end.
  half = ew * idn['brow_len']
  inner_dx = p['inner_dx'] * (1 - t) / 2
  x = ex + side * half * t - side * inner_dx
  arch = (idn['brow_arch'] + p['arch']) * (1 - t ** 2)
  base = ey - idn['eye_w'] * idn['eye_open'] - idn['brow_gap']
  y = base + p['brow_dy'] - arch + p['inner_dy'] * (1 - t) / 2
  width = idn['brow_thick'] * (1.0 - 0.45 * (t + 1) / 2)
  cv.stroke(np.stack([x, y], 1), width, idn['brow_colour'])


def _draw_nose(cv, idn, p, cx, eye_y):
  tip = eye_y + idn['nose_len'] - 0.012 * p['sneer']
  w = idn['nose_w'] * (1 + 0.25 * p['sneer'])
  dark = idn['skin'] * 0.72
  if idn['nose_style'] == 0:
    cv.stroke([[cx - 0.006, eye_y + 0.02], [cx - 0.01, tip - 0.02],
               [cx - 0.003, tip]], 0.006, dark)
  elif idn['nose_style'] == 1:
    cv.polygon([[cx, eye_y + 0.03], [cx + w * 0.9, tip], [cx - w * 0.9, tip]],
               idn['skin'] * 0.88)
  else:
    cv.ellipse(cx, tip - 0.01, w * 0.55, 0.022, idn['skin'] * 0.85)
  for side in (-1, 1):
    cv.ellipse(cx + side * w * 0.5, tip + 0.002, w * 0.28, 0.008, dark * 0.7)
  if p['nose_wrinkle'] > 0:
    for k in range(3):
      yy = eye_y + 0.035 + 0.015 * k
      for side in (-1, 1):
        cv.stroke([[cx + side * 0.012, yy], [cx + side * 0.03, yy - 0.006]],
                  0.004 * p['nose_wrinkle'] + 0.001, dark * 0.8)


def _mouth_curves(idn, p, cx, my):
  w = idn['mouth_w'] * (1 + p['mouth_w'])
  t = np.linspace(-1, 1, 31)
  x = cx + w * t
  seam = my + p['corner_dy'] * t ** 2 - p['asym'] * np.clip(t, 0, 1) ** 2
  shape = 1 - np.abs(t) ** (5 if p['square'] else 2)
  gap = p['mouth_open'] * shape
  ui = seam - gap * p['upper_share'] - p['sneer'] * 0.01 * shape
  li = seam + gap * (1 - p['upper_share'])
  top = idn['lip_top'] * (1 - 0.6 * p['lip_press'])
  bot = idn['lip_bot'] * (1 - 0.6 * p['lip_press']) * (1 + 0.4 * p['pout'])
  bow = 0.004 * np.exp(-(t * 6) ** 2)  # Cupid's bow dip.
  uo = ui - top * np.sqrt(np.clip(1 - t ** 2, 0, 1)) * (1 + 0.3 * np.abs(t)) + bow
  lo = li + bot * np.sqrt(np.clip(1 - t ** 2, 0, 1)) - p['pout'] * 0.006 * shape
  return x, seam, ui, li, uo, lo


def _draw_mouth(cv, idn, p, cx, my):
  x, seam, ui, li, uo, lo = _mouth_curves(idn, p, cx, my)
  pts = lambda a, b: np.concatenate([np.stack([x, a], 1),
                                     np.stack([x, b], 1)[::-1]])
  cv.polygon(pts(uo, lo), idn['lip'])
  if p['mouth_open'] > 0.004:
    cv.polygon(pts(ui, li), (55, 18, 25))
    if p['teeth']:
      depth = 0.45 if p['square'] else 0.6
      tb = np.minimum(ui + (li - ui) * depth, li)
      cv.polygon(pts(ui, tb), (238, 236, 225))
      if p['square']:
        cv.polygon(pts(np.maximum(li - (li - ui) * 0.35, ui), li),
                   (225, 222, 210))
  cv.stroke(np.stack([x, (ui + li) / 2 if p['mouth_open'] <= 0.004 else ui], 1),
            0.004, idn['lip'] * 0.45)
  return x, uo, lo


def _draw_wrinkles(cv, idn, p, cx, eye_y, my):
  dark = idn['skin'] * 0.7
  sep = idn['eye_sep']
  if p['forehead'] > 0:
    for k in range(3):
      y = eye_y - idn['eye_w'] * idn['eye_open'] - idn['brow_gap'] - 0.075 - 0.022 * k
      xs = np.linspace(cx - sep * 0.9, cx + sep * 0.9, 12)
      cv.stroke(np.stack([xs, y + 0.006 * np.cos((xs - cx) / sep * 3)], 1),
                0.0035 * p['forehead'] + 0.001, dark)
  if p['glabella'] > 0:
    for side in (-1, 1):
      cv.stroke([[cx + side * 0.012, eye_y - 0.07], [cx + side * 0.009,
                                                     eye_y - 0.035]],
                0.004 * p['glabella'] + 0.001, dark)
  if p['smile_lines'] > 0:
    w = idn['mouth_w'] * (1 + p['mouth_w'])
    for side in (-1, 1):
      a = np.linspace(0, 1, 10)
      xs = cx + side * (idn['nose_w'] + 0.02 + (w + 0.015 - idn['nose_w']) * a)
      ys = eye_y + idn['nose_len'] - 0.02 + (my - eye_y - idn['nose_len'] + 0.03) * a ** 0.8
      cv.stroke(np.stack([xs, ys], 1), 0.005 * p['smile_lines'], dark)
  if p['cheeks'] > 0:
    for side in (-1, 1):
      cv.ellipse(cx + side * (sep + 0.02), eye_y + 0.085, 0.045, 0.03,
                 idn['skin'] * (1 - 0.06 * p['cheeks']) + np.array([12, 0, 0]) * p['cheeks'])


def _draw_glasses(cv, idn, eye_y):
  kind, colour = idn['glasses'], idn['glasses_colour']
  sep, r = idn['eye_sep'], idn['eye_w'] * 1.45
  for side in (-1, 1):
    ex = 0.5 + side * sep
    a = np.linspace(0, 2 * np.pi, 41)
    if kind == 0:  # Round.
      ring = np.stack([ex + r * np.cos(a), eye_y + 0.005 + r * 0.85 * np.sin(a)], 1)
    else:  # Rectangular / cat-eye.
      c, s = np.cos(a), np.sin(a)
      ring = np.stack([ex + r * np.sign(c) * np.abs(c) ** 0.4,
                       eye_y + 0.005 + r * 0.65 * np.sign(s) * np.abs(s) ** 0.4], 1)
      if kind == 2:
        ring[:, 1] -= 0.015 * np.clip(side * (ring[:, 0] - ex) / r, 0, 1) ** 2
    cv.stroke(ring, 0.008, colour)
    cv.stroke([[ex + side * r, eye_y], [ex + side * (r + 0.06), eye_y - 0.01]],
              0.007, colour)
  cv.stroke([[0.5 - sep + r, eye_y], [0.5, eye_y - 0.012], [0.5 + sep - r, eye_y]],
            0.007, colour)


def eye_placement(idn: dict[str, Any], *, yaw: float = 0.0,
                  rotation: float = 0.0, rescale: float = 1.0,
                  residual_shift=(0.0, 0.0)) -> tuple[float, np.ndarray]:
  """(scale, shift) of the `_Canvas` transform that puts the drawn eye centres
  (0.5 +- eye_sep + yaw, EYE_Y) on align.DEFAULT_EYE_TEMPLATE, then moves them
  by a residual similarity about the template's eye midpoint (`rotation`
  degrees, `rescale`, `residual_shift`)."""
  tx, ty = align.DEFAULT_EYE_TEMPLATE
  scale = (0.5 - tx) / idn['eye_sep'] * rescale
  c, s = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
  rot = np.array([[c, -s], [s, c]])
  midpoint = np.array([0.5 + yaw, EYE_Y])
  target = np.array([0.5, ty]) + np.asarray(residual_shift, float)
  return scale, target - 0.5 - scale * rot @ (midpoint - 0.5)


def draw_face(idn: dict[str, Any], expression: str, amplitude: float,
              rng: np.random.Generator, size: int = 112,
              jitter: bool = True) -> np.ndarray:
  """Renders one eye-aligned face as uint8 [size, size, 3].

  Args:
    idn: a person from `sample_identity`.
    expression: one of EXPRESSION_CLASSES.
    amplitude: expression strength in [0, 1] (0 = neutral).
    rng: randomness for this image's residual misalignment, yaw, lighting
      flicker and noise.
    size: output side.
    jitter: add that per-image variation (else the eyes sit exactly on the
      template and only the person's session lighting is applied).
  """
  p = synthetic_people.expression_params(expression, amplitude)
  ss = 3
  r = RESIDUAL
  if jitter:
    rotation = rng.uniform(-r['rotation'], r['rotation'])
    rescale = 1 + rng.uniform(-r['scale'], r['scale'])
    residual_shift = rng.uniform(-r['shift'], r['shift'], 2)
    yaw = rng.uniform(-r['yaw'], r['yaw'])
  else:
    rotation, rescale, residual_shift, yaw = 0.0, 1.0, np.zeros(2), 0.0
  scale, shift = eye_placement(idn, yaw=yaw, rotation=rotation,
                               rescale=rescale, residual_shift=residual_shift)
  cv = _Canvas(size * ss, rotation, scale, shift, idn['background'])
  cx, cy = 0.5, 0.53
  rw, rh = idn['face_rw'], idn['face_rh']
  eye_y = EYE_Y
  fx = cx + yaw  # Features shift a little with head yaw.
  skin = idn['skin']

  _draw_hair_back(cv, idn, cx, cy, rw, rh)
  cv.polygon([[cx - 0.42, 1.02], [cx - 0.36, 0.93], [cx - 0.1, 0.88],
              [cx + 0.1, 0.88], [cx + 0.36, 0.93], [cx + 0.42, 1.02]], idn['shirt'])
  cv.polygon([[cx - rw * 0.45, cy + rh * 0.6], [cx + rw * 0.45, cy + rh * 0.6],
              [cx + rw * 0.5, 0.95], [cx - rw * 0.5, 0.95]], skin * 0.82)
  for side in (-1, 1):
    cv.ellipse(cx + side * rw * 0.98, eye_y + 0.04, idn['ears'], idn['ears'] * 1.6,
               skin * 0.9)
    if idn['earrings']:
      cv.ellipse(cx + side * rw * 0.98, eye_y + 0.04 + idn['ears'] * 1.6, 0.012,
                 0.012, (230, 200, 60))
  cv.polygon(_face_outline(cx, cy, rw, rh, idn['jaw'], idn['square']), skin)
  if idn['blush'] > 0.05:
    for side in (-1, 1):
      cv.ellipse(fx + side * (idn['eye_sep'] + 0.03), eye_y + 0.11, 0.04, 0.025,
                 skin * (1 - idn['blush']) + np.array([220, 90, 90]) * idn['blush'])
  my = eye_y + idn['mouth_dy']
  if idn['beard']:
    outline = _face_outline(cx, cy, rw * 1.01, rh * 1.01, idn['jaw'], idn['square'])
    lowerface = outline[(outline[:, 1] > eye_y + 0.09)]
    lowerface = lowerface[np.argsort(np.arctan2(lowerface[:, 1] - cy,
                                                lowerface[:, 0] - cx))]
    # Back up from the left cheek, under the mouth, to the right cheek.
    inner = np.array([[cx - rw * 0.8, eye_y + 0.10], [cx - 0.11, my - 0.01],
                      [cx, my + 0.04], [cx + 0.11, my - 0.01],
                      [cx + rw * 0.8, eye_y + 0.10]])
    cv.polygon(np.concatenate([lowerface, inner]), idn['hair_colour'])

  _draw_wrinkles(cv, idn, p, fx, eye_y, my)
  for side in (-1, 1):
    _draw_eye(cv, idn, p, fx + side * idn['eye_sep'], eye_y, side)
    _draw_brow(cv, idn, p, fx + side * idn['eye_sep'], eye_y, side)
  _draw_nose(cv, idn, p, fx, eye_y)
  x, uo, _ = _draw_mouth(cv, idn, p, fx, my)
  if idn['moustache']:
    m = np.abs(x - fx) < idn['mouth_w'] * 1.1
    top = uo[m] - 0.018
    cv.polygon(np.concatenate([np.stack([x[m], top], 1),
                               np.stack([x[m], uo[m] + 0.002], 1)[::-1]]),
               idn['hair_colour'])
  _draw_hair_front(cv, idn, cx, cy, rw, rh, eye_y)
  if idn['glasses'] >= 0:
    _draw_glasses(cv, idn, eye_y)
  if idn['mole'] is not None:
    cv.ellipse(*idn['mole'], 0.007, 0.007, skin * 0.45)

  img = np.asarray(cv.img.reduce(ss), np.float32)
  angle = idn['light_angle']
  yy, xx = np.mgrid[0:size, 0:size] / size - 0.5
  light = 1 + idn['light_strength'] * (np.cos(angle) * xx + np.sin(angle) * yy)
  exposure = idn['exposure'] * (1 + rng.uniform(-0.02, 0.02) if jitter else 1)
  img = img * light[..., None] * exposure
  if jitter:
    img = img + rng.normal(0, idn['noise'], img.shape)
  return np.clip(np.round(img), 0, 255).astype(np.uint8)
