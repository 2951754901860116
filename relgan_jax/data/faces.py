"""From photos to model inputs, the way the training faces were made.

A photo becomes what REL-GAN's encoders (Ges, the expression encoder giving
f_e; Get, the identity encoder) were trained on in two steps:

  1. detect the face, find the eye centres and warp them onto the prep's eye
     template in a stored_size crop (`relgan_jax.data.align`, with the prepared
     manifest's settings); or, for images that are already aligned faces,
     take the centre square resized to stored_size (`align.resize_only`);
  2. resize to round(image_size * margin_ratio) and take the centre
     image_size crop: evaluation's view (`augment.centre_crop`), or the five
     crops when the run evaluated with config.augment.five_crop_eval.

`preprocessing` dicts (written by `run_files.save_classifier`) hold the
settings: image_size, margin_ratio, five_crop, dataset, stored_size and prep
(the manifest's prep settings: eye_template, landmarks, backend, ...).
"""

import dataclasses
import functools
from typing import Any, Optional

from absl import logging
import numpy as np

from relgan_jax.data import align as align_lib
from relgan_jax.data import augment


@dataclasses.dataclass(frozen=True)
class Face:
  """One face found in a photo.

  Attributes:
    crop: uint8 [stored, stored, 3], aligned like the training faces.
    box: (left, top, right, bottom) of the detection in photo pixels, or None
      without detection (--no_align).
    transform: float [2, 3], photo -> crop (as 'align/transform' in records).
  """
  crop: np.ndarray
  box: Optional[tuple[float, float, float, float]]
  transform: np.ndarray


@functools.lru_cache(maxsize=2)
def _detector(backend: str, landmarks: int, detect_max_side: int):
  # Loading dlib's landmark model takes seconds: once per process.
  return align_lib.make_detector(backend, landmarks=landmarks,
                                 detect_max_side=detect_max_side)


class FaceFinder:
  """Detects and aligns faces the way the training data was prepared.

  Args:
    preprocessing: the model's preprocessing dict (see `save_classifier`).
    align: detect and align (else: centre square, resized; for crops that
      are already aligned).
    detector: an `align.EyeDetector`; default the prep's backend.
  """

  def __init__(self, preprocessing: dict[str, Any], *, align: bool = True,
               detector: Any = None):
    prep = preprocessing.get('prep') or {}
    self.stored_size = int(preprocessing.get('stored_size') or round(
        preprocessing['image_size'] * preprocessing['margin_ratio']))
    self.template = tuple(prep.get('eye_template',
                                   align_lib.DEFAULT_EYE_TEMPLATE))
    self.align = align
    self.detector = detector
    if align and detector is None:
      self.detector = _detector(prep.get('backend', 'dlib'),
                                int(prep.get('landmarks', 68)),
                                int(prep.get('detect_max_side', 640)))
    if align and prep and prep.get('align') is False:
      logging.warning('The training faces were not aligned (prep align=False): '
                      'pass already-aligned crops with --no_align.')

  def __call__(self, image: np.ndarray, *,
               all_faces: bool = True) -> list[Face]:
    """The faces of `image` (uint8 HxWx3), largest first; [] if none."""
    if not self.align:
      crop, matrix = align_lib.resize_only(image, self.stored_size)
      return [Face(crop, None, matrix)]
    if hasattr(self.detector, 'faces'):  # Every face (the dlib backend).
      boxes = self.detector.faces(image)
      if not all_faces:
        boxes = boxes[:1]
      detections = []
      for box in boxes:
        left, right = align_lib.eye_centres(
            self.detector.landmarks_in_box(image, box))
        detections.append(align_lib.Detection(left, right, len(boxes),
                                              tuple(box)))
    else:  # A backend that only reports the largest face.
      detection = self.detector.eyes(image)
      detections = [detection] if detection is not None else []
    faces = []
    for d in detections:
      crop, matrix = align_lib.align(image, d, self.stored_size, self.template)
      faces.append(Face(crop, tuple(float(v) for v in d.box), matrix))
    return faces


def load_photo(path: str) -> np.ndarray:
  """Reads an image file as uint8 HxWx3 (grey replicated, EXIF rotated)."""
  with open(path, 'rb') as f:
    data = f.read()
  try:
    return align_lib.load_rgb(data)
  except Exception as e:  # PIL raises many types for unreadable files.
    raise ValueError(f'{path} is not a readable image: {type(e).__name__}: '
                     f'{e}') from e


def model_inputs(faces: np.ndarray, preprocessing: dict[str, Any], *,
                 five_crop: Optional[bool] = None) -> np.ndarray:
  """Stored-size faces [N, M, M, 3] -> the evaluation crops [N, S, S, 3]
  (or [N, 5, S, S, 3] with five_crop; default: as the run evaluated)."""
  size = int(preprocessing['image_size'])
  side = augment.margin_side(size, float(preprocessing['margin_ratio']))
  if five_crop is None:
    five_crop = bool(preprocessing.get('five_crop', False))
  crop = augment.five_crops if five_crop else augment.centre_crop
  return np.stack([crop(np.asarray(f, np.uint8), size, side) for f in faces])
