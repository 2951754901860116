"""BU-4DFE reader (2D frames of the 3D video sequences; pre-training set).

Layout (DESIGN.md §6):
  RAW/F001/Angry/000.jpg ...
Subjects F001-F058 and M001-M043; expression folders Angry, Disgust, Fear,
Happy, Sad, Surprise.

Protocol (DESIGN.md §5): all frames (about 60,600), or every `frame_stride`-th
frame of each sequence, 6 classes.
"""

import re

from data_prep.readers import base

FOLDER_CLASSES = {'angry': 0, 'disgust': 1, 'fear': 2, 'happy': 3, 'sad': 4,
                  'surprise': 5}
_SUBJECT = r'[FM]\d{3}'


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the BU-4DFE frames under `raw_dir`."""
  stride = options.frame_stride
  if stride < 1:
    raise ValueError(f'frame_stride must be >= 1, got {stride}')
  root = base.find_root(
      raw_dir, ['.', 'BU4DFE', 'BU-4DFE'],
      lambda p: any(re.fullmatch(_SUBJECT, d) for d in base.subdirs(p)),
      'BU-4DFE (F001/Angry/000.jpg)')
  listing = base.Listing(classes=base.BASIC_SIX)
  base.read_subject_expression_tree(
      root, raw_dir, listing, subject_pattern=_SUBJECT,
      folder_classes=FOLDER_CLASSES, select=lambda frames: frames[::stride],
      skip_why=f'frames between every {stride}th frame (frame_stride)')
  return listing
