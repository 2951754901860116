"""Who the synthetic people are and what their expressions do.

`sample_identity` draws everything that makes one person (a strong nuisance:
face shape, skin, hair, eyes, nose, brows, glasses, beard, background,
clothes, the session's lighting); `EXPRESSIONS` are the subtle deltas of each
expression class at full intensity, `expression_params` scales them by an
intensity. relgan_jax/data/synthetic_drawing.py draws a face from both.
"""

from typing import Any

import numpy as np

EXPRESSION_CLASSES = ('neutral', 'anger', 'disgust', 'fear', 'happy', 'sadness',
                      'surprise')

# Expression deltas at full intensity (normalised units; the eye's half width is
# ~0.055). Missing keys are 0. brow_dy > 0 lowers the brows, inner_dy > 0 lowers
# the inner ends, inner_dx > 0 pulls them together; eye_open scales the upper
# lid opening, eye_lower raises the lower lid; corner_dy < 0 lifts the mouth
# corners; mouth_open is the lip gap at the centre, upper_share how much of it
# the upper lip takes.
EXPRESSIONS: dict[str, dict[str, float]] = {
    'neutral': {},
    'anger': dict(brow_dy=0.030, inner_dy=0.034, inner_dx=0.014, arch=-0.010,
                  eye_open=-0.40, eye_lower=0.35, mouth_w=-0.12, corner_dy=0.010,
                  mouth_open=0.030, upper_share=0.5, teeth=1.0, square=1.0,
                  lip_press=0.5, glabella=1.0),
    'disgust': dict(brow_dy=0.020, inner_dy=0.012, inner_dx=0.006,
                    eye_open=-0.45, eye_lower=0.50, mouth_w=-0.05,
                    corner_dy=0.022, mouth_open=0.020, upper_share=0.9,
                    teeth=1.0, asym=0.022, nose_wrinkle=1.0, sneer=1.0),
    'fear': dict(brow_dy=-0.030, inner_dy=-0.024, inner_dx=0.010, arch=-0.012,
                 eye_open=0.60, eye_lower=-0.10, mouth_w=0.28, corner_dy=0.014,
                 mouth_open=0.034, upper_share=0.3, teeth=1.0, square=1.0,
                 forehead=0.6),
    'happy': dict(brow_dy=-0.006, eye_open=-0.25, eye_lower=0.55, mouth_w=0.25,
                  corner_dy=-0.045, mouth_open=0.034, upper_share=0.2,
                  teeth=1.0, smile_lines=1.0, cheeks=1.0),
    'sadness': dict(brow_dy=0.004, inner_dy=-0.036, inner_dx=0.006,
                    eye_open=-0.28, droop=1.0, mouth_w=-0.10, corner_dy=0.038,
                    pout=1.0),
    'surprise': dict(brow_dy=-0.050, arch=0.016, eye_open=0.75, eye_lower=-0.15,
                     mouth_w=-0.38, mouth_open=0.095, upper_share=0.35,
                     forehead=1.0),
}
INTENSITIES = (0.45, 0.72, 1.0)  # Amplitude of intensity levels 1, 2, 3.

SKIN_LIGHT = np.array([255, 226, 200.])
SKIN_DARK = np.array([80, 50, 34.])
HAIR_COLOURS = np.array([
    [25, 20, 18], [60, 40, 25], [105, 70, 40], [150, 100, 55], [215, 185, 115],
    [165, 70, 35], [175, 175, 175], [235, 235, 230], [40, 40, 60]], float)
IRIS_COLOURS = np.array([[70, 45, 25], [40, 90, 150], [70, 120, 70],
                         [25, 20, 15], [110, 90, 60]], float)
HAIR_STYLES = ('bald', 'short', 'long', 'fringe', 'side_part', 'curly', 'bun')


def _hsv_colour(rng, s_range, v_range) -> np.ndarray:
  h, s, v = rng.random(), rng.uniform(*s_range), rng.uniform(*v_range)
  i = int(h * 6) % 6
  f = h * 6 - int(h * 6)
  p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
  rgb = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
  return np.array(rgb) * 255


def sample_identity(rng: np.random.Generator) -> dict[str, Any]:
  """Draws everything that makes one synthetic person."""
  skin = SKIN_LIGHT + (SKIN_DARK - SKIN_LIGHT) * rng.beta(1.2, 1.6)
  skin = skin * rng.uniform(0.93, 1.07, 3)
  hair_colour = HAIR_COLOURS[rng.integers(len(HAIR_COLOURS))]
  hair_colour = hair_colour * rng.uniform(0.85, 1.15)
  lip = 0.55 * skin + 0.45 * np.array([185, 75, 85.]) * rng.uniform(0.8, 1.1)
  return dict(
      skin=skin,
      face_rw=rng.uniform(0.27, 0.37),  # Half width.
      face_rh=rng.uniform(0.38, 0.45),  # Half height.
      jaw=rng.uniform(0.0, 0.45),  # How much the lower face narrows.
      square=rng.uniform(2.0, 3.2),  # Super-ellipse exponent.
      hair_style=HAIR_STYLES[rng.integers(len(HAIR_STYLES))],
      hair_colour=hair_colour,
      hair_volume=rng.uniform(0.02, 0.07),
      hairline=rng.uniform(-0.03, 0.03),
      part=rng.uniform(-0.08, 0.08),
      eye_sep=rng.uniform(0.12, 0.165),  # Half the distance between the eyes.
      eye_w=rng.uniform(0.05, 0.068),
      eye_open=rng.uniform(0.45, 0.65),
      eye_tilt=rng.uniform(-0.15, 0.2),
      iris=rng.uniform(0.42, 0.56),
      iris_colour=IRIS_COLOURS[rng.integers(len(IRIS_COLOURS))],
      brow_gap=rng.uniform(0.055, 0.075),
      brow_len=rng.uniform(0.85, 1.25),  # Relative to the eye width.
      brow_thick=rng.uniform(0.010, 0.032),
      brow_arch=rng.uniform(0.0, 0.02),
      brow_colour=hair_colour * rng.uniform(0.6, 0.9) if rng.random() < 0.8
      else np.array([40, 30, 25.]),
      nose_style=int(rng.integers(3)),
      nose_len=rng.uniform(0.10, 0.16),
      nose_w=rng.uniform(0.028, 0.05),
      mouth_dy=rng.uniform(0.23, 0.28),  # Below the eye line.
      mouth_w=rng.uniform(0.08, 0.11),
      lip_top=rng.uniform(0.008, 0.018),
      lip_bot=rng.uniform(0.012, 0.024),
      lip=lip,
      glasses=int(rng.integers(3)) if rng.random() < 0.25 else -1,
      glasses_colour=np.array([20, 20, 20.]) if rng.random() < 0.6
      else _hsv_colour(rng, (0.5, 0.9), (0.3, 0.8)),
      beard=rng.random() < 0.22,
      moustache=rng.random() < 0.18,
      ears=rng.uniform(0.035, 0.055),
      earrings=rng.random() < 0.2,
      mole=(rng.uniform(0.3, 0.7), rng.uniform(0.45, 0.8))
      if rng.random() < 0.3 else None,
      blush=rng.uniform(0.0, 0.12),
      background=(_hsv_colour(rng, (0.1, 0.6), (0.35, 0.95)),
                  _hsv_colour(rng, (0.1, 0.6), (0.35, 0.95))),
      shirt=_hsv_colour(rng, (0.2, 0.9), (0.2, 0.9)),
      # The person's capture session: lighting gradient and exposure.
      light_angle=rng.uniform(0, 2 * np.pi),
      light_strength=rng.uniform(0, 0.45),
      exposure=rng.uniform(0.85, 1.12),
      noise=rng.uniform(1.5, 5.0),
  )


def expression_params(expression: str, amplitude: float) -> dict[str, float]:
  """The expression's deltas scaled by `amplitude` (0 = neutral)."""
  keys = set().union(*EXPRESSIONS.values())
  deltas = EXPRESSIONS[expression]
  p = {k: amplitude * deltas.get(k, 0.0) for k in keys}
  # Shares and switches are not scaled by the intensity.
  for k in ('upper_share', 'teeth', 'square'):
    p[k] = deltas.get(k, 0.0)
  return p
