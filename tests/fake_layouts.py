"""Small fake raw trees in each dataset's real layout (DESIGN.md §6).

For tests, throughput benchmarks and dry runs of `data_prep.prepare` without
the licensed data: folder and file names, label files and image formats follow
the real datasets; the pixels come from a `painter`. `pattern_painter` draws a
distinct faceless pattern per file (fast, for --no_align runs);
`face_painter` pastes real photos of faces (matplotlib's grace_hopper.jpg,
scikit-image's astronaut) at a jittered position and scale on a canvas of the
dataset's frame size, so face detection really runs.
"""

import hashlib
import os
from typing import Callable, Mapping, Sequence

import numpy as np
from PIL import Image, ImageDraw

# painter(key, (width, height), grey) -> image; key is the file's relative path.
Painter = Callable[[str, tuple[int, int], bool], Image.Image]


def _rng(key: str) -> np.random.Generator:
  return np.random.default_rng(int.from_bytes(
      hashlib.sha256(key.encode()).digest()[:8], 'little'))


def pattern_painter(key: str, size: tuple[int, int], grey: bool) -> Image.Image:
  """A faceless image unique to `key`: random rectangles on a random ground."""
  rng = _rng(key)
  im = Image.new('RGB', size, tuple(int(v) for v in rng.integers(0, 256, 3)))
  draw = ImageDraw.Draw(im)
  w, h = size
  for _ in range(6):
    x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
    draw.rectangle([x0, y0, x0 + int(rng.integers(2, w // 2 + 3)),
                    y0 + int(rng.integers(2, h // 2 + 3))],
                   fill=tuple(int(v) for v in rng.integers(0, 256, 3)))
  return im.convert('L') if grey else im


# Face boxes (left, top, right, bottom) dlib's HOG detector finds in the
# sample photos: grace_hopper.jpg (512x600) and skimage's astronaut (512x512).
GRACE_HOPPER_FACE = (161, 137, 377, 353)
ASTRONAUT_FACE = (179, 83, 267, 171)

Face = tuple[np.ndarray, tuple[int, int, int, int]]  # (photo, face box)


def grace_hopper() -> np.ndarray:
  """matplotlib's sample photo of Grace Hopper (uint8 HxWx3)."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  path = os.path.join(matplotlib.get_data_path(), 'sample_data',
                      'grace_hopper.jpg')
  with Image.open(path) as im:
    return np.asarray(im.convert('RGB'))


def sample_faces() -> list[Face]:
  """Grace Hopper, and scikit-image's astronaut if scikit-image is installed."""
  faces = [(grace_hopper(), GRACE_HOPPER_FACE)]
  try:
    from skimage import data  # pylint: disable=g-import-not-at-top
    faces.append((data.astronaut(), ASTRONAUT_FACE))
  except ImportError:
    pass
  return faces


def face_painter(faces: Sequence[Face], face_fraction: float = 0.5,
                 blank_keys: Sequence[str] = ()) -> Painter:
  """Pastes one of `faces` (chosen by key) on a plain canvas.

  The photo is cropped to its face box enlarged 1.6x and scaled so the face box
  is `face_fraction` of the canvas height (+-10% per key), with a small
  random shift per key. Keys in `blank_keys` get the canvas alone (a frame
  without a face).
  """
  crops = []
  for photo, (l, t, r, b) in faces:
    cx, cy, half = (l + r) / 2, (t + b) / 2, 0.8 * max(r - l, b - t)
    box = tuple(int(round(v)) for v in (max(0, cx - half), max(0, cy - half),
                                        min(photo.shape[1], cx + half),
                                        min(photo.shape[0], cy + half)))
    crops.append((Image.fromarray(np.asarray(photo)).crop(box), b - t))

  def paint(key, size, grey):
    w, h = size
    rng = _rng(key)
    canvas = Image.new('RGB', size, tuple(int(v) for v in
                                          rng.integers(90, 160, 3)))
    if key not in blank_keys:
      face, face_height = crops[int(rng.integers(len(crops)))]
      scale = face_fraction * h / face_height * rng.uniform(0.9, 1.1)
      face = face.resize((max(1, round(face.width * scale)),
                          max(1, round(face.height * scale))), Image.BILINEAR)
      x = (w - face.width) // 2 + int(rng.integers(-w // 20, w // 20 + 1))
      y = (h - face.height) // 2 + int(rng.integers(-h // 20, h // 20 + 1))
      canvas.paste(face, (x, y))
    return canvas.convert('L') if grey else canvas

  return paint


def _save(root: str, rel: str, painter: Painter, size, grey: bool, **kw):
  path = os.path.join(root, rel)
  os.makedirs(os.path.dirname(path), exist_ok=True)
  painter(rel, size, grey).save(path, **kw)
  return rel


def _save_sequences(root: str, pattern: str,
                    sequences: Mapping[str, Mapping[str, int]],
                    painter: Painter, size: tuple[int, int]) -> None:
  """Writes pattern.format(subject, folder, frame) JPEGs for every frame."""
  for subject, folders in sequences.items():
    for folder, n in folders.items():
      for t in range(n):
        _save(root, pattern.format(subject, folder, t), painter, size, False,
              quality=95)


def make_ckplus(root: str, sequences: Mapping[tuple[str, str],
                                              tuple[int, float | None]],
                painter: Painter = pattern_painter,
                size: tuple[int, int] = (640, 490)) -> None:
  """CK+: cohn-kanade-images/S005/001/S005_001_00000001.png + Emotion/ labels.

  Args:
    root: the raw folder to create.
    sequences: {(subject, sequence): (num_frames, label or None)}; a label is
      written for the last frame as CK+ does ('   3.0000000e+00').
    painter: draws the frames (grey, as most CK+ frames are).
    size: frame (width, height).
  """
  for (subject, seq), (n, label) in sequences.items():
    stem = f'{subject}_{seq}_{{:08d}}'
    for t in range(1, n + 1):
      _save(root, f'cohn-kanade-images/{subject}/{seq}/{stem.format(t)}.png',
            painter, size, True)
    if label is not None:
      path = os.path.join(root, 'Emotion', subject, seq,
                          stem.format(n) + '_emotion.txt')
      os.makedirs(os.path.dirname(path), exist_ok=True)
      with open(path, 'w') as f:
        f.write(f'   {label:.7e}\n')


def make_oulu_casia(root: str, sequences: Mapping[str, Mapping[str, int]],
                    painter: Painter = pattern_painter,
                    size: tuple[int, int] = (320, 240)) -> None:
  """Oulu-CASIA: OriginalImg/VL/Strong/P001/Anger/000.jpeg ...

  Args:
    root: the raw folder to create.
    sequences: {subject: {expression folder: num_frames}}.
    painter: draws the frames.
    size: frame (width, height).
  """
  _save_sequences(root, 'OriginalImg/VL/Strong/{}/{}/{:03d}.jpeg', sequences,
                  painter, size)


BU3DFE_CODES = ('AN', 'DI', 'FE', 'HA', 'SA', 'SU')


def make_bu3dfe(root: str, subjects: Mapping[str, str],
                painter: Painter = pattern_painter,
                size: tuple[int, int] = (512, 512),
                intensities: Sequence[int] = (1, 2, 3, 4)) -> None:
  """BU-3DFE: F0001/F0001_AN01WH_F2D.bmp, every expression and intensity.

  Each subject also gets its neutral F2D image and, like the real release,
  non-2D files (an F3D texture .bmp and a .wrl mesh) that must be skipped.

  Args:
    root: the raw folder to create.
    subjects: {subject id: ethnicity code}, e.g. {'F0001': 'WH'}.
    painter: draws the images.
    size: image (width, height).
    intensities: intensities written for the six expressions.
  """
  for subject, race in subjects.items():
    names = [f'{subject}_{c}{i:02d}{race}' for c in BU3DFE_CODES
             for i in intensities] + [f'{subject}_NE00{race}']
    for stem in names:
      _save(root, f'{subject}/{stem}_F2D.bmp', painter, size, False)
    _save(root, f'{subject}/{names[0]}_F3D.bmp', painter, (64, 64), False)
    with open(os.path.join(root, subject, f'{names[0]}_RAW.wrl'), 'w') as f:
      f.write('#VRML V2.0 utf8\n')


def make_bu4dfe(root: str, sequences: Mapping[str, Mapping[str, int]],
                painter: Painter = pattern_painter,
                size: tuple[int, int] = (520, 664)) -> None:
  """BU-4DFE: F001/Angry/000.jpg ...

  Args:
    root: the raw folder to create.
    sequences: {subject: {expression folder: num_frames}}.
    painter: draws the frames.
    size: frame (width, height); the real 2D frames are 1040x1329, this
      default is half that.
  """
  _save_sequences(root, '{}/{}/{:03d}.jpg', sequences, painter, size)


def make_sfew(root: str, images: Mapping[str, Mapping[str, int]],
              painter: Painter = pattern_painter,
              size: tuple[int, int] = (720, 576)) -> None:
  """SFEW 2.0: Train/Angry/<movie>_<frame>.png, Val/... .

  Args:
    root: the raw folder to create.
    images: {split folder: {expression folder: count}}.
    painter: draws the images.
    size: image (width, height).
  """
  for split, folders in images.items():
    for folder, n in folders.items():
      for t in range(n):
        _save(root, f'{split}/{folder}/Movie_{folder}_{t:03d}_{t * 7:08d}.png',
              painter, size, False)


def make_image_folder(root: str, images: Mapping[str, Sequence[str]],
                      painter: Painter = pattern_painter,
                      size: tuple[int, int] = (48, 48)) -> None:
  """A pre-aligned class-folder set: <class>/<name>.

  Args:
    root: the raw folder to create.
    images: {class folder: [file names]}.
    painter: draws the images (grey, like FER2013-style 48x48 crops).
    size: image (width, height).
  """
  for cls, names in images.items():
    for name in names:
      _save(root, f'{cls}/{name}', painter, size, True)
