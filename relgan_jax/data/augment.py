"""On-the-fly augmentation of stored faces, on uint8 numpy images (DESIGN.md §4).

The paper (§4.1) stores aligned faces larger than the network input (112 for a
96 crop) and, for training, takes the crop at one of five places (centre and the
four corners), rotates it by one of {-6, -3, 0, 3, 6} degrees and flips it
horizontally at random. Here a stored face is first resized to
M = round(S * margin_ratio) for an S x S input, so any stored size works with any
image_size. Evaluation uses the centre crop, unrotated and unflipped (or the five
crops, for averaging).

One `Geometry` (place, angle, flip) is drawn per augmented image, except that
the reenactment target x_t and its ground truth x_tg share one draw: they show
the same person and the pixel loss compares the generated face with x_tg.
"""

import dataclasses
import math
from typing import Sequence

import numpy as np
from PIL import Image

# Crop places: index 0 is the centre (used for evaluation).
PLACES = ('centre', 'top_left', 'top_right', 'bottom_left', 'bottom_right')


@dataclasses.dataclass(frozen=True)
class Geometry:
  """One geometric draw: crop place index, rotation in degrees, horizontal flip."""
  place: int = 0
  angle: float = 0.0
  flip: bool = False


def margin_side(image_size: int, margin_ratio: float) -> int:
  """Side M the stored face is resized to before an image_size crop."""
  side = int(round(image_size * margin_ratio))
  if side < image_size:
    raise ValueError(f'margin_ratio {margin_ratio} gives a {side}px face, smaller '
                     f'than the {image_size}px crop.')
  return side


def draw_geometry(rng: np.random.Generator, *, five_crops: bool,
                  rotations: Sequence[float], flip: bool) -> Geometry:
  """Draws a training geometry (uniform place, rotation and flip)."""
  place = int(rng.integers(len(PLACES))) if five_crops else 0
  angle = float(rotations[rng.integers(len(rotations))]) if len(rotations) else 0.0
  return Geometry(place, angle, bool(flip and rng.random() < 0.5))


def resize(image: np.ndarray, side: int) -> np.ndarray:
  """Resizes uint8 HxWx3 to side x side (bilinear, antialiased when shrinking)."""
  if image.shape[0] == side and image.shape[1] == side:
    return image
  return np.asarray(Image.fromarray(image).resize((side, side),
                                                  Image.Resampling.BILINEAR))


def crop_origin(side: int, size: int, place: int) -> tuple[int, int]:
  """(x0, y0) of a size crop at PLACES[place] inside a side x side image."""
  if not 0 <= place < len(PLACES):
    raise ValueError(f'crop place {place} outside 0..{len(PLACES) - 1}.')
  margin = side - size
  if place == 0:
    return margin // 2, margin // 2
  return (0 if place in (1, 3) else margin), (0 if place in (1, 2) else margin)


def _edge_pad(image: np.ndarray, pad: int) -> np.ndarray:
  """np.pad(mode='edge') for HxWxC, without its per-call overhead."""
  h, w = image.shape[:2]
  out = np.empty((h + 2 * pad, w + 2 * pad) + image.shape[2:], image.dtype)
  out[pad:pad + h, pad:pad + w] = image
  out[pad:pad + h, :pad] = image[:, :1]
  out[pad:pad + h, pad + w:] = image[:, -1:]
  out[:pad] = out[pad:pad + 1]
  out[pad + h:] = out[pad + h - 1:pad + h]
  return out


def apply(image: np.ndarray, geometry: Geometry, size: int,
          side: int) -> np.ndarray:
  """Resizes to side, rotates about the centre, crops size at the place, flips.

  Rotation samples the resized face through one bilinear affine map; pixels that
  would come from outside the face repeat its border (edge padding), so corner
  crops of rotated faces have no black wedges.

  Args:
    image: uint8 HxWx3 stored face.
    geometry: the draw.
    size: crop side S.
    side: resize side M >= S.

  Returns:
    uint8 [size, size, 3].
  """
  image = resize(image, side)
  x0, y0 = crop_origin(side, size, geometry.place)
  if geometry.angle == 0:
    out = image[y0:y0 + size, x0:x0 + size]
  else:
    theta = math.radians(geometry.angle)
    c, s = math.cos(theta), math.sin(theta)
    # Enough padding for the rotated crop's corners to stay inside.
    pad = int(math.ceil(side * (abs(s) + abs(1 - c)))) + 2
    padded = _edge_pad(image, pad)
    centre = side / 2
    # Output (u, v) -> point (x0 + u, y0 + v) of the rotated face -> rotate back
    # about the centre -> shift into the padded image. PIL wants the map from
    # output to input coordinates.
    a, b = c, s
    d, e = -s, c
    tx = centre + pad - c * (centre - x0) - s * (centre - y0)
    ty = centre + pad + s * (centre - x0) - c * (centre - y0)
    out = np.asarray(Image.fromarray(padded).transform(
        (size, size), Image.Transform.AFFINE, (a, b, tx, d, e, ty),
        resample=Image.Resampling.BILINEAR))
  if geometry.flip:
    out = out[:, ::-1]
  return np.ascontiguousarray(out)


def centre_crop(image: np.ndarray, size: int, side: int) -> np.ndarray:
  """The evaluation view: centre crop, unrotated, unflipped."""
  return apply(image, Geometry(), size, side)


def five_crops(image: np.ndarray, size: int, side: int) -> np.ndarray:
  """The five evaluation crops (centre first), uint8 [5, size, size, 3]."""
  image = resize(image, side)
  return np.stack([apply(image, Geometry(place=p), size, side)
                   for p in range(len(PLACES))])


class KeptCrops:
  """`apply`, with each unflipped crop kept once drawn, per (face, place,
  angle): how stage 1's pipeline, the CNN baseline's batches and the MLP's
  augmented views crop on the host.

  Training draws every crop from a few geometries (config.augment's crop
  places x rotations; the flip is a copy), so each epoch would resample the
  same affine rotations again: on a CPU host those resamplings run on the
  cores that the training step runs on. Once kept, a draw is a copy (flipped
  or not). The crops are `apply`'s, byte for byte: keeping them changes the
  speed only. They are kept when all that draw_geometry(five_crops,
  rotations) could give `num_faces` faces fit in `max_bytes` (num_faces x
  places x angles x size x size x 3 bytes); otherwise every call computes
  its crop afresh. Kept crops are read-only arrays; a copy sent to a
  worker process starts empty.
  """

  def __init__(self, size: int, side: int, *, num_faces: int,
               five_crops: bool, rotations: Sequence[float], max_bytes: int):
    self.size, self.side = int(size), int(side)
    geometries = (len(PLACES) if five_crops else 1) * max(1, len(rotations))
    needed = int(num_faces) * geometries * self.size**2 * 3
    self.kept_bytes_bound = needed
    self._kept: dict | None = {} if 0 < needed <= max_bytes else None

  @property
  def keeps(self) -> bool:
    return self._kept is not None

  def __getstate__(self):
    state = self.__dict__.copy()
    if state['_kept'] is not None:
      state['_kept'] = {}
    return state

  def __call__(self, key, face, geometry: Geometry) -> np.ndarray:
    """The crop of face `key` (`face()` returns its stored image, called only
    when the crop is not kept) at `geometry`: uint8 [size, size, 3]."""
    kept = self._kept
    crop = None if kept is None else kept.get((key, geometry.place,
                                               geometry.angle))
    if crop is None:
      crop = apply(face(), dataclasses.replace(geometry, flip=False),
                   self.size, self.side)
      if kept is not None:
        crop.setflags(write=False)
        kept[(key, geometry.place, geometry.angle)] = crop
    return np.ascontiguousarray(crop[:, ::-1]) if geometry.flip else crop
