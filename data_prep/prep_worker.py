"""One raw image -> one stored face, or the reason it cannot be used.

Runs in `data_prep.prepare`'s worker processes (or in-process with one
worker): read the file (only read), decode it to RGB (grayscale replicated to 3
channels), detect and align the face (`data_prep.align`) or, without alignment,
centre-crop and resize, and PNG-encode the stored face.
"""

import hashlib
import io
import os
from typing import Any

from PIL import Image

from data_prep.readers import base
from relgan_jax.data import align as align_lib


class Processor:
  """Turns one raw image into a stored face, or says why it cannot."""

  def __init__(self, raw_dir: str, settings: dict[str, Any]):
    self.raw_dir = raw_dir
    self.stored_size = settings['stored_size']
    self.template = tuple(settings['eye_template'])
    self.detector = None
    if settings['align']:
      self.detector = align_lib.make_detector(
          settings['backend'], landmarks=settings['landmarks'],
          detect_max_side=settings['detect_max_side'])

  def __call__(self, job: tuple[int, str]) -> dict[str, Any]:
    index, rel = job
    out = dict(index=index)
    try:
      with open(os.path.join(self.raw_dir, rel), 'rb') as f:
        data = f.read()
      out['sha1'] = hashlib.sha1(data).hexdigest()
      image = align_lib.load_rgb(data)
    except Exception as e:  # PIL raises many types for corrupt files.
      return dict(out, reason=base.UNREADABLE,
                  detail=f'{type(e).__name__}: {e}')
    try:
      if self.detector is None:
        crop, matrix = align_lib.resize_only(image, self.stored_size)
      else:
        detection = self.detector.eyes(image)
        if detection is None:
          return dict(out, reason=base.NO_FACE,
                      detail=f'no face found in {image.shape[1]}x'
                      f'{image.shape[0]} image')
        out['num_faces'] = detection.num_faces
        crop, matrix = align_lib.align(image, detection, self.stored_size,
                                       self.template)
    except Exception as e:  # One odd image must not end an hour-long run.
      return dict(out, reason=base.PROCESSING_ERROR,
                  detail=f'{type(e).__name__}: {e}')
    buf = io.BytesIO()
    Image.fromarray(crop, 'RGB').save(buf, format='PNG', compress_level=1)
    return dict(out, png=buf.getvalue(),
                transform=[float(t) for t in matrix.ravel()])


_WORKER: Processor | None = None


def init_worker(raw_dir: str, settings: dict[str, Any]) -> None:
  global _WORKER
  """Pool initializer: builds this process's Processor (and detector)."""
  _WORKER = Processor(raw_dir, settings)


def work(job: tuple[int, str]) -> dict[str, Any]:
  """Processes one (index, relative path) job in a pool worker."""
  return _WORKER(job)
