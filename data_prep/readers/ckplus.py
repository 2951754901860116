"""CK+ (extended Cohn-Kanade) reader.

Layout (DESIGN.md §6):
  RAW/cohn-kanade-images/S005/001/S005_001_00000011.png   frames of a sequence
  RAW/Emotion/S005/001/S005_001_00000011_emotion.txt      one float, 1..7
(`Emotion_labels/Emotion/` is accepted for the label tree too.)

Protocol (DESIGN.md §5): the label of a sequence belongs to its peak frame, the
one its label file names (the last frame in the released data); the last three
frames up to that frame are used, 7 classes. Sequences without a label file,
with a label outside 1..7 (0 = neutral is not a protocol class) or with
disagreeing label files are rejected by sequence folder. The first (neutral)
frame of each used sequence is also kept as a stage-1-only item (x_t only;
`ReaderOptions.neutral_first_frames`).
"""

import math
import os
import re

from data_prep.readers import base

CLASSES = ('anger', 'contempt', 'disgust', 'fear', 'happy', 'sadness',
           'surprise')
_LABEL_SUFFIX = '_emotion.txt'


def _label_root(raw_dir: str) -> str | None:
  for c in ('Emotion', os.path.join('Emotion_labels', 'Emotion'),
            'Emotion_labels'):
    path = os.path.join(raw_dir, c)
    if os.path.isdir(path):
      return path
  return None


def _read_label(path: str) -> tuple[int | None, str, str]:
  """(class index or None, rejection reason, why) from one *_emotion.txt."""
  try:
    with open(path, 'r', encoding='ascii', errors='replace') as f:
      text = f.read().strip()
  except OSError as e:
    return None, base.NO_LABEL, f'cannot read label file: {e}'
  try:
    value = float(text)
  except ValueError:
    return (None, base.AMBIGUOUS_LABEL,
            f'label file does not hold one number: {text[:40]!r}')
  if value == 0:
    return None, base.NO_LABEL, 'label 0 (neutral) is not a CK+ protocol class'
  if not math.isfinite(value) or value != round(value):
    return None, base.AMBIGUOUS_LABEL, f'label {text!r} is not a whole number'
  if not 1 <= value <= len(CLASSES):
    return None, base.AMBIGUOUS_LABEL, f'label {text!r} is outside 1..7'
  return int(value) - 1, '', ''


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the CK+ protocol images under `raw_dir`."""
  images_root = base.find_root(
      raw_dir, ['cohn-kanade-images', 'extended-cohn-kanade-images/'
                'cohn-kanade-images', '.'],
      lambda p: any(re.fullmatch(r'S\d+', d) for d in base.subdirs(p)),
      'CK+ (cohn-kanade-images/S005/001/*.png)')
  label_root = _label_root(os.path.dirname(images_root)) or _label_root(raw_dir)
  listing = base.Listing(classes=CLASSES)
  if label_root is None:
    listing.notes.append('no Emotion/ label folder found: every sequence is '
                         'unlabelled')
  keep = options.frames_per_sequence
  for subject in base.subdirs(images_root):
    for seq in base.subdirs(os.path.join(images_root, subject)):
      seq_dir = os.path.join(images_root, subject, seq)
      seq_rel = base.relpath(seq_dir, raw_dir)
      frames = base.image_files(seq_dir, listing, raw_dir=raw_dir)
      if not frames:
        listing.reject(seq_rel, base.NO_IMAGES, 'sequence folder has no images')
        continue
      label_dir = os.path.join(label_root or '', subject, seq)
      label_files = ([n for n in base.files(label_dir)
                      if n.endswith(_LABEL_SUFFIX)]
                     if label_root and os.path.isdir(label_dir) else [])
      if not label_files:
        where = base.relpath(label_dir, raw_dir) if label_root else 'Emotion/'
        listing.reject(seq_rel, base.NO_LABEL, f'{len(frames)} frames, no '
                       f'{_LABEL_SUFFIX} file in {where}')
        listing.skip('frames of rejected sequences', len(frames))
        continue
      labels = {n: _read_label(os.path.join(label_dir, n)) for n in label_files}
      if len({v for v, _, _ in labels.values()}) > 1:
        listing.reject(seq_rel, base.AMBIGUOUS_LABEL,
                       'label files disagree: ' + ', '.join(
                           f'{n}={v}' for n, (v, _, _) in labels.items()))
        listing.skip('frames of rejected sequences', len(frames))
        continue
      label_name = label_files[-1]
      label, reason, why = labels[label_name]
      if label is None:
        label_rel = base.relpath(os.path.join(label_dir, label_name), raw_dir)
        listing.reject(seq_rel, reason, f'{label_rel}: {why}')
        listing.skip('frames of rejected sequences', len(frames))
        continue
      peak = label_name[:-len(_LABEL_SUFFIX)]
      stems = [os.path.splitext(f)[0] for f in frames]
      if peak not in stems:
        listing.reject(seq_rel, base.AMBIGUOUS_LABEL,
                       f'{label_name} names frame {peak!r}, which is not in '
                       'the sequence')
        listing.skip('frames of rejected sequences', len(frames))
        continue
      end = stems.index(peak) + 1
      if end != len(frames):
        listing.notes.append(f'{seq_rel}: labelled frame {peak} is not the '
                             f'last frame; used the {keep} frames ending there')
      chosen = frames[max(0, end - keep):end]
      first = options.neutral_first_frames and frames[0] not in chosen
      listing.skip(f'frames other than the last {keep} up to the labelled '
                   'frame',
                   len(frames) - len(chosen) - first)
      if first:
        listing.add_first_frame(
            base.relpath(os.path.join(seq_dir, frames[0]), raw_dir), subject)
      for name in chosen:
        listing.items.append(base.Item(
            path=base.relpath(os.path.join(seq_dir, name), raw_dir),
            expression=label, subject=subject))
  return listing
