"""Metrics out: TensorBoard event files (tensorboardX) and the console.

Only process 0 writes event files; every process may log to the console. A
`MetricWriter` takes plain numbers / uint8 images on the host: fetch device
values with `jax.device_get` before writing. The log folder may be a
gs://bucket/... URL (tensorboardX then needs the google-cloud-storage
package).
"""

import os
import struct
from typing import Mapping, Optional

from absl import logging
import numpy as np
from tensorboardX import SummaryWriter
from tensorboardX.proto import event_pb2


class MetricWriter:
  """Writes scalars and images to TensorBoard and scalars to the console.

  Args:
    logdir: folder for the event files (created), or None for console only.
    console: also log scalars with absl logging.
    prefix: text put before console lines (e.g. 'stage1').
  """

  def __init__(self, logdir: Optional[str], *, console: bool = True,
               prefix: str = ''):
    self._console = console
    self._prefix = prefix
    self._tb = None
    if logdir:
      if '://' not in logdir:  # gs://...: tensorboardX writes objects.
        os.makedirs(logdir, exist_ok=True)
      self._tb = SummaryWriter(logdir=logdir, flush_secs=30)

  @property
  def logdir(self) -> Optional[str]:
    return self._tb.logdir if self._tb is not None else None

  def write_scalars(self, step: int, scalars: Mapping[str, float]) -> None:
    """One value per name at `step` (host numbers or 0-d arrays)."""
    values = {k: float(np.asarray(v)) for k, v in scalars.items()}
    if self._tb is not None:
      for name, value in values.items():
        self._tb.add_scalar(name, value, global_step=step)
    if self._console:
      text = ', '.join(f'{k}={v:.4g}' for k, v in sorted(values.items()))
      logging.info('%s[step %d] %s', self._prefix and self._prefix + ' ',
                   step, text)

  def write_images(self, step: int, images: Mapping[str, np.ndarray]) -> None:
    """uint8 [H, W, 3] (or [H, W]) images, one per name."""
    if self._tb is None:
      return
    for name, image in images.items():
      image = np.asarray(image)
      if image.dtype != np.uint8:
        raise ValueError(f'write_images: {name!r} must be uint8, got '
                         f'{image.dtype}.')
      if image.ndim == 2:
        image = image[..., None].repeat(3, axis=-1)
      self._tb.add_image(name, image, global_step=step, dataformats='HWC')

  def flush(self) -> None:
    if self._tb is not None:
      self._tb.flush()

  def close(self) -> None:
    if self._tb is not None:
      self._tb.close()
      self._tb = None

  def __enter__(self):
    return self

  def __exit__(self, *exc):
    self.close()


def create_writer(logdir: str, *, is_chief: bool = True,
                  prefix: str = '') -> MetricWriter:
  """Event files in `logdir` on the chief process; console logs elsewhere."""
  return MetricWriter(logdir if is_chief else None, prefix=prefix)


def read_scalars(logdir: str) -> dict:
  """Reads back {name: [(step, value), ...]} from the event files in logdir.

  For tests and notebooks; uses tensorboardX's protobufs, not TensorFlow.
  """
  scalars = {}
  for name in sorted(os.listdir(logdir)):
    if 'tfevents' not in name:
      continue
    path = os.path.join(logdir, name)
    with open(path, 'rb') as f:
      data = f.read()
    pos = 0
    while pos + 12 <= len(data):
      (length,) = struct.unpack('<Q', data[pos:pos + 8])
      payload = data[pos + 12:pos + 12 + length]
      pos += 12 + length + 4
      event = event_pb2.Event.FromString(payload)
      for value in event.summary.value:
        if value.HasField('simple_value'):
          scalars.setdefault(value.tag, []).append(
              (event.step, value.simple_value))
  return scalars
