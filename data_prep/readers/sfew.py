"""SFEW 2.0 reader (static facial expressions in the wild).

Layout (DESIGN.md §6):
  RAW/Train/Angry/*.png, RAW/Val/Angry/*.png
expression folders Angry, Disgust, Fear, Happy, Neutral, Sad, Surprise. There
are no subject ids: every image is its own subject with identity -1.

Protocol (DESIGN.md §5): train on Train (958 images), report on Val (436),
7 classes. Split folders are matched case-insensitively; a Test folder (no
labels) is counted as skipped.
"""

import os

from data_prep.readers import base

CLASSES = ('anger', 'disgust', 'fear', 'happy', 'neutral', 'sadness',
           'surprise')
FOLDER_CLASSES = {'angry': 0, 'disgust': 1, 'fear': 2, 'happy': 3,
                  'neutral': 4, 'sad': 5, 'surprise': 6}
SPLITS = {'train': 'train', 'val': 'test'}


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the SFEW Train and Val images under `raw_dir`."""
  del options  # SFEW has no protocol options.
  root = base.find_root(
      raw_dir, ['.', 'SFEW_2', 'SFEW2', 'SFEW'],
      lambda p: {'train', 'val'} <= {d.lower() for d in base.subdirs(p)},
      'SFEW 2.0 (Train/Angry/*.png and Val/Angry/*.png)')
  listing = base.Listing(classes=CLASSES, has_identities=False,
                         fixed_split=True)
  for split_dir in base.subdirs(root):
    split = SPLITS.get(split_dir.lower())
    if split is None:
      n = sum(len(fs) for _, _, fs in os.walk(os.path.join(root, split_dir)))
      listing.skip(f'files outside Train/ and Val/ ({split_dir}/)', n)
      continue
    for folder in base.subdirs(os.path.join(root, split_dir)):
      class_dir = os.path.join(root, split_dir, folder)
      label = FOLDER_CLASSES.get(folder.lower())
      if label is None:
        listing.reject(base.relpath(class_dir, raw_dir), base.NO_LABEL,
                       f'unknown expression folder {folder!r}')
        continue
      for name in base.image_files(class_dir, listing, raw_dir=raw_dir):
        rel = base.relpath(os.path.join(class_dir, name), raw_dir)
        listing.items.append(base.Item(path=rel, expression=label, subject=rel,
                                       split=split))
  return listing
