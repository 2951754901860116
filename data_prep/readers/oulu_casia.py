"""Oulu-CASIA (visible light, strong illumination) reader.

Layout (DESIGN.md §6):
  RAW/OriginalImg/VL/Strong/P001/Anger/000.jpeg ...
Subjects P001-P080; expression folders Anger, Disgust, Fear, Happiness,
Sadness, Surprise; frames in order, neutral first and peak last. `RAW` may also
be the `VL/Strong` folder itself (or any folder between).

Protocol (DESIGN.md §5): the last three frames of each of the 480 sequences,
6 classes. Each sequence's first (neutral) frame is also kept as a
stage-1-only item (x_t only; `ReaderOptions.neutral_first_frames`).
"""

import re

from data_prep.readers import base

FOLDER_CLASSES = {'anger': 0, 'disgust': 1, 'fear': 2, 'happiness': 3,
                  'sadness': 4, 'surprise': 5}
_SUBJECT = r'P\d+'


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the Oulu-CASIA VL/Strong protocol images under `raw_dir`."""
  root = base.find_root(
      raw_dir, ['OriginalImg/VL/Strong', 'VL/Strong', 'Strong', '.'],
      lambda p: any(re.fullmatch(_SUBJECT, d) for d in base.subdirs(p)),
      'Oulu-CASIA (OriginalImg/VL/Strong/P001/Anger/000.jpeg)')
  listing = base.Listing(classes=base.BASIC_SIX)
  listing.notes.append(f'read {base.relpath(root, raw_dir)}/ only (visible '
                       'light, strong illumination); other lighting and the '
                       'NIR camera are not part of the protocol')
  keep = options.frames_per_sequence
  base.read_subject_expression_tree(
      root, raw_dir, listing, subject_pattern=_SUBJECT,
      folder_classes=FOLDER_CLASSES, select=lambda frames: frames[-keep:],
      skip_why=f'frames before the last {keep} of a sequence',
      first_frame_stage1=options.neutral_first_frames)
  return listing
