"""BU-3DFE reader (the frontal 2D texture images).

Layout (DESIGN.md §6):
  RAW/F0001/F0001_AN01WH_F2D.bmp
file name = subject (F0001-F0056, M0001-M0044), expression code (AN DI FE HA NE
SA SU), intensity 01-04 (neutral 00), ethnicity code, 'F2D' = frontal 2D
texture. Other files (F3D textures, .wrl/.bnd meshes) are not used.

Protocol (DESIGN.md §5): the two highest intensities (03, 04) of the six
expressions, 100 subjects -> 1,200 images, 6 classes; with
`include_neutral` the neutral image of each subject is added as a 7th class.
"""

import os
import re

from data_prep.readers import base

EXPRESSION_CODES = ('AN', 'DI', 'FE', 'HA', 'SA', 'SU')  # BASIC_SIX order.
PROTOCOL_INTENSITIES = (3, 4)
_SUBJECT = r'[FM]\d{4}'
_NAME = re.compile(r'(?P<subject>[FM]\d{4})_(?P<code>[A-Z]{2})'
                   r'(?P<intensity>\d{2})(?P<ethnicity>[A-Z]{2})'
                   r'_(?P<kind>[A-Z0-9]+)\.(?P<ext>[A-Za-z]+)', re.IGNORECASE)


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the BU-3DFE protocol images under `raw_dir`."""
  root = base.find_root(
      raw_dir, ['.', 'BU3DFE', 'BU-3DFE'],
      lambda p: any(re.fullmatch(_SUBJECT, d) for d in base.subdirs(p)),
      'BU-3DFE (F0001/F0001_AN01WH_F2D.bmp)')
  classes = base.BASIC_SIX + (('neutral',) if options.include_neutral else ())
  listing = base.Listing(classes=classes)
  seen = {}  # (subject, class, intensity) -> path of the first image.
  for subject in base.subdirs(root):
    subject_dir = os.path.join(root, subject)
    if not re.fullmatch(_SUBJECT, subject):
      listing.reject(base.relpath(subject_dir, raw_dir), base.NO_SUBJECT,
                     f'folder name does not match {_SUBJECT!r}')
      continue
    for name in base.files(subject_dir):
      rel = base.relpath(os.path.join(subject_dir, name), raw_dir)
      m = _NAME.fullmatch(name)
      if m is None or m['kind'].upper() != 'F2D' or not base.is_image(name):
        if base.is_image(name) and m is None:
          listing.reject(rel, base.NO_LABEL, 'file name is not '
                         'SUBJECT_EEiiRR_F2D.ext (EE expression, ii intensity)')
        else:
          listing.skip('not a frontal 2D texture image (F2D)')
        continue
      code, intensity = m['code'].upper(), int(m['intensity'])
      if m['subject'].upper() != subject.upper():
        listing.reject(rel, base.AMBIGUOUS_LABEL,
                       f'file subject {m["subject"]} is not its folder '
                       f'{subject}')
        continue
      if code == 'NE':
        if intensity != 0:
          listing.reject(rel, base.AMBIGUOUS_LABEL, f'neutral with intensity '
                         f'{intensity:02d} (expected 00)')
          continue
        if not options.include_neutral:
          listing.skip('neutral images (include_neutral is off)')
          continue
        label = len(base.BASIC_SIX)
      elif code in EXPRESSION_CODES:
        if not 1 <= intensity <= 4:
          listing.reject(rel, base.AMBIGUOUS_LABEL,
                         f'intensity {intensity:02d} is outside 01..04')
          continue
        if intensity not in PROTOCOL_INTENSITIES:
          listing.skip('intensities 01-02 (protocol uses 03 and 04)')
          continue
        label = EXPRESSION_CODES.index(code)
      else:
        listing.reject(rel, base.NO_LABEL, f'unknown expression code {code!r}')
        continue
      key = (subject, label, intensity)
      if key in seen:
        listing.reject(rel, base.DUPLICATE,
                       f'{subject} {code}{intensity:02d} is already '
                       f'{seen[key]}')
        continue
      seen[key] = rel
      listing.items.append(base.Item(path=rel, expression=label,
                                     subject=subject, intensity=intensity))
  return listing
