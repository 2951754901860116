"""Face detection and eye alignment (DESIGN.md §7).

A face is aligned by a similarity transform (rotation, uniform scale,
translation) that puts the two eye centres on fixed template positions of a
square `stored_size` crop. The 2x3 raw->aligned matrix is returned with the crop
and stored in every record ('align/transform'), so any point of the raw image
can be mapped into the crop and back.

Coordinates: (x, y) with the centre of pixel (row i, column j) at (j, i), the
convention of numpy indexing and of dlib's landmarks. "Left eye" means the eye
on the image's left (the subject's right eye).

The detector sits behind a small backend interface (`EyeDetector`): anything
with `eyes(image) -> Detection | None`. The default backend, `DlibDetector`,
uses dlib's HOG face detector and a landmark model shipped in the
`face-recognition-models` package (`pip install -e .[prep]`): nothing is
downloaded at run time. Pre-aligned data needs none of this (`resize_only`).
`load_rgb` reads a photo file's bytes as the RGB array all of this takes.

Used by data_prep (preparing datasets), relgan_jax.data.faces (photos at prediction
time) and relgan_jax.data.synthetic_drawing (the synthetic faces are drawn onto the
same eye template).
"""

import dataclasses
import importlib.metadata
import importlib.util
import io
import os
from typing import Protocol, Sequence

import numpy as np
from PIL import Image
from PIL import ImageOps

# Eye-centre template as fractions of the crop side: left eye at (x, y), right
# eye mirrored at (1 - x, y). Inter-ocular distance is 0.30 of the side, which
# keeps brows to chin inside the crop with some margin, so that a 96-pixel
# corner crop of a 112 stored face (DESIGN.md §4) still holds eyes and mouth.
DEFAULT_EYE_TEMPLATE = (0.35, 0.38)

_LANDMARK_FILES = {
    68: 'shape_predictor_68_face_landmarks.dat',
    5: 'shape_predictor_5_face_landmarks.dat',
}
_PREP_HINT = ("face detection needs the 'prep' extra: pip install -e '.[prep]' "
              '(dlib-bin and face-recognition-models); faces that are already '
              'aligned crops need none (--no_align)')


class MissingExtraError(ImportError):
  """The optional 'prep' extra (dlib) is not installed: a user error that
  the commands report as one line."""


def load_rgb(data: bytes) -> np.ndarray:
  """Decodes image bytes to uint8 HxWx3; grayscale is replicated to 3 channels.

  16-bit and float grayscale are scaled to 8 bits; EXIF orientation is applied.
  """
  with Image.open(io.BytesIO(data)) as im:
    im.load()
    im = ImageOps.exif_transpose(im)
    if im.mode in ('I', 'I;16', 'I;16B', 'I;16L', 'F'):
      arr = np.asarray(im, np.float64)
      if arr.max(initial=0) > 255:
        arr = arr * (255.0 / 65535.0)
      grey = np.clip(np.round(arr), 0, 255).astype(np.uint8)
      return np.repeat(grey[..., None], 3, axis=-1)
    return np.asarray(im.convert('RGB'))

@dataclasses.dataclass(frozen=True)
class Detection:
  """Eye centres of the face chosen in one image.

  Attributes:
    left_eye: (x, y) of the image-left eye centre, raw-image pixels.
    right_eye: (x, y) of the image-right eye centre.
    num_faces: how many faces the detector found (the largest is used).
    box: (left, top, right, bottom) of the chosen face, raw-image pixels.
  """
  left_eye: tuple[float, float]
  right_eye: tuple[float, float]
  num_faces: int
  box: tuple[float, float, float, float]


class EyeDetector(Protocol):
  """The backend interface: find the eye centres of the main face."""

  def eyes(self, image: np.ndarray) -> Detection | None:
    """The eyes of the largest face in `image` (uint8 HxWx3), or None."""


def landmark_model_path(points: int = 68) -> str:
  """Locates a dlib landmark model inside the face-recognition-models package.

  The package's `__init__` imports `pkg_resources`, which new setuptools no
  longer ships, so the package is found without importing it.

  Args:
    points: 68 or 5 (landmarks per face).

  Returns:
    The path of the .dat file.

  Raises:
    ValueError: if `points` is not 68 or 5.
    FileNotFoundError: if the package or the file is missing.
  """
  if points not in _LANDMARK_FILES:
    raise ValueError(f'landmark model must have 68 or 5 points, got {points}')
  name = _LANDMARK_FILES[points]
  spec = importlib.util.find_spec('face_recognition_models')
  roots = list(spec.submodule_search_locations or []) if spec else []
  for root in roots:
    path = os.path.join(root, 'models', name)
    if os.path.isfile(path):
      return path
  try:  # An installed distribution whose files are not in a package folder.
    dist = importlib.metadata.distribution('face-recognition-models')
    for f in dist.files or ():
      if f.name == name:
        return str(f.locate())
  except importlib.metadata.PackageNotFoundError:
    pass
  raise FileNotFoundError(f'{name} not found; {_PREP_HINT}')


class DlibDetector:
  """dlib HOG face detector + shape predictor (the default backend).

  Detection runs on downscaled copies, coarse to fine, and stops at the first
  that has a face: longer side detect_max_side / 2 (finds faces from about
  80 px there, e.g. 160 px in a 640 px frame; the FER sets' faces are large),
  then detect_max_side, then detect_max_side with the detector's 2x upsampling
  (faces down to about 40 px). Landmarks are fitted on the full-resolution
  image.
  """

  def __init__(self, landmarks: int = 68, detect_max_side: int = 640):
    try:
      import dlib  # pylint: disable=g-import-not-at-top
    except ImportError as e:
      raise MissingExtraError(_PREP_HINT) from e
    self._dlib = dlib
    self._detector = dlib.get_frontal_face_detector()
    self._predictor = dlib.shape_predictor(landmark_model_path(landmarks))
    self.landmarks = landmarks
    self.detect_max_side = detect_max_side

  def faces(self, image: np.ndarray) -> list[tuple[float, float, float, float]]:
    """Face boxes (left, top, right, bottom) in raw pixels, largest first."""
    h, w = image.shape[:2]
    rects, scale, tried = [], 1.0, set()
    for side, upsample in ((self.detect_max_side // 2, 0),
                           (self.detect_max_side, 0),
                           (self.detect_max_side, 1)):
      scale = min(1.0, side / max(h, w))
      if (scale, upsample) in tried:
        continue
      tried.add((scale, upsample))
      small = image
      if scale < 1.0:
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        small = np.asarray(Image.fromarray(image).resize(size, Image.BILINEAR))
      rects = list(self._detector(small, upsample))
      if rects:
        break
    boxes = [(r.left() / scale, r.top() / scale, (r.right() + 1) / scale,
              (r.bottom() + 1) / scale) for r in rects]
    return sorted(boxes, key=lambda b: -(b[2] - b[0]) * (b[3] - b[1]))

  def landmarks_in_box(self, image: np.ndarray,
                       box: Sequence[float]) -> np.ndarray:
    """Landmarks (N, 2) as (x, y) of the face in `box`."""
    rect = self._dlib.rectangle(int(round(box[0])), int(round(box[1])),
                                int(round(box[2])) - 1, int(round(box[3])) - 1)
    shape = self._predictor(np.ascontiguousarray(image), rect)
    return np.array([(p.x, p.y) for p in shape.parts()], np.float64)

  def eyes(self, image: np.ndarray) -> Detection | None:
    boxes = self.faces(image)
    if not boxes:
      return None
    left, right = eye_centres(self.landmarks_in_box(image, boxes[0]))
    return Detection(left, right, len(boxes), tuple(boxes[0]))


def eye_centres(points: np.ndarray) -> tuple[tuple[float, float],
                                             tuple[float, float]]:
  """Image-left and image-right eye centres from 68 or 5 dlib landmarks."""
  if len(points) == 68:  # 36-41: image-left eye contour, 42-47: image-right.
    a, b = points[36:42].mean(0), points[42:48].mean(0)
  elif len(points) == 5:  # 0-1: corners of one eye, 2-3: the other, 4: nose.
    a, b = points[0:2].mean(0), points[2:4].mean(0)
  else:
    raise ValueError(f'expected 68 or 5 landmarks, got {len(points)}')
  left, right = (a, b) if a[0] <= b[0] else (b, a)
  return (float(left[0]), float(left[1])), (float(right[0]), float(right[1]))


def template_eyes(stored_size: int,
                  template: Sequence[float] = DEFAULT_EYE_TEMPLATE
                 ) -> tuple[tuple[float, float], tuple[float, float]]:
  """Template eye centres in pixels of a stored_size x stored_size crop."""
  x, y = template
  if not 0 < x < 0.5 or not 0 < y < 1:
    raise ValueError(f'eye template (x, y) must have 0 < x < 0.5 and 0 < y < 1,'
                     f' got {tuple(template)}')
  # Pixel-centre coordinates: the crop spans [-0.5, stored_size - 0.5].
  return ((x * stored_size - 0.5, y * stored_size - 0.5),
          ((1 - x) * stored_size - 0.5, y * stored_size - 0.5))


def similarity_transform(src: Sequence[Sequence[float]],
                         dst: Sequence[Sequence[float]]) -> np.ndarray:
  """The 2x3 similarity matrix mapping the two points `src` onto `dst`."""
  (x1, y1), (x2, y2) = np.asarray(src, np.float64)
  (u1, v1), (u2, v2) = np.asarray(dst, np.float64)
  s_vec = complex(x2 - x1, y2 - y1)
  if abs(s_vec) < 1e-6:
    raise ValueError(f'the two source points coincide: {src}')
  z = complex(u2 - u1, v2 - v1) / s_vec  # Scale * rotation as one complex.
  a, b = z.real, z.imag
  tx = u1 - (a * x1 - b * y1)
  ty = v1 - (b * x1 + a * y1)
  return np.array([[a, -b, tx], [b, a, ty]], np.float64)


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
  """Maps (N, 2) points through a 2x3 affine matrix."""
  points = np.asarray(points, np.float64)
  return points @ np.asarray(matrix)[:, :2].T + np.asarray(matrix)[:, 2]


def warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
  """Warps `image` by the raw->aligned `matrix` into a size x size crop.

  Pixels outside the raw image are black. Bicubic resampling.
  """
  m = np.vstack([np.asarray(matrix, np.float64), [0.0, 0.0, 1.0]])
  # PIL works in continuous coordinates where pixel j spans [j, j + 1]; shift
  # our pixel-centre convention by half a pixel on both sides.
  shift = np.array([[1, 0, 0.5], [0, 1, 0.5], [0, 0, 1]])
  inverse = np.linalg.inv(shift @ m @ np.linalg.inv(shift))
  out = Image.fromarray(image).transform(
      (size, size), Image.AFFINE, tuple(inverse[:2].ravel()),
      resample=Image.BICUBIC)
  return np.asarray(out)


def align(image: np.ndarray, detection: Detection, stored_size: int,
          template: Sequence[float] = DEFAULT_EYE_TEMPLATE
         ) -> tuple[np.ndarray, np.ndarray]:
  """Aligns one face: returns (crop uint8 [S, S, 3], transform float [2, 3])."""
  matrix = similarity_transform((detection.left_eye, detection.right_eye),
                                template_eyes(stored_size, template))
  return warp(image, matrix, stored_size), matrix


def resize_only(image: np.ndarray,
                stored_size: int) -> tuple[np.ndarray, np.ndarray]:
  """The --no_align path: centre square crop, resized to stored_size.

  For pre-aligned data (e.g. 48x48 crops). Returns (crop, transform) like
  `align`, the transform being the crop-and-scale matrix.
  """
  h, w = image.shape[:2]
  side = min(h, w)
  x0, y0 = (w - side) // 2, (h - side) // 2
  s = stored_size / side
  # Pixel-centre convention: raw centre x maps to s * (x - x0 + 0.5) - 0.5.
  matrix = np.array([[s, 0, s * (0.5 - x0) - 0.5],
                     [0, s, s * (0.5 - y0) - 0.5]], np.float64)
  crop = image[y0:y0 + side, x0:x0 + side]
  if side != stored_size:
    crop = np.asarray(Image.fromarray(crop).resize(
        (stored_size, stored_size), Image.BICUBIC))
  return np.ascontiguousarray(crop), matrix


BACKENDS = {'dlib': DlibDetector}


def make_detector(backend: str = 'dlib', **kwargs) -> EyeDetector:
  """Builds an eye-detector backend by name ('dlib')."""
  if backend not in BACKENDS:
    raise ValueError(f'unknown alignment backend {backend!r}; '
                     f'known: {sorted(BACKENDS)}')
  return BACKENDS[backend](**kwargs)
