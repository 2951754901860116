"""Generic reader: one sub-folder per expression class (pre-aligned data).

Layout (DESIGN.md §6):
  RAW/<class>/**/<image>
Classes are the sub-folder names in sorted order, or `options.classes` (then
folders not listed are skipped). The subject of an image comes from
`options.subject_regex`, searched in its path relative to RAW: the group named
'subject' if there is one, else group 1, else the whole match. Without a regex
every image is its own subject (folds are then NOT subject-independent, and
the report says so).
"""

import os
import re

from data_prep.readers import base


def read(raw_dir: str, options: base.ReaderOptions) -> base.Listing:
  """Lists the class-folder images under `raw_dir`."""
  if not os.path.isdir(raw_dir):
    raise FileNotFoundError(f'raw_dir {raw_dir!r} is not a folder')
  folders = base.subdirs(raw_dir)
  classes = tuple(options.classes) if options.classes else tuple(folders)
  missing = [c for c in classes if c not in folders]
  if not classes or missing:
    raise FileNotFoundError(
        f'{raw_dir!r} needs one sub-folder per class; missing: '
        f'{missing or "all (no sub-folders)"}')
  pattern = re.compile(options.subject_regex) if options.subject_regex else None
  listing = base.Listing(classes=classes)
  if pattern is None:
    listing.notes.append('no subject_regex: every image is its own subject, so '
                         'folds are not subject-independent')
  for folder in folders:
    if folder not in classes:
      n = sum(len(fs) for _, _, fs in os.walk(os.path.join(raw_dir, folder)))
      listing.skip(f'files in folders that are not a listed class ({folder}/)',
                   n)
      continue
    label = classes.index(folder)
    paths = []
    for dirpath, dirnames, names in os.walk(os.path.join(raw_dir, folder)):
      dirnames[:] = [d for d in dirnames if not d.startswith('.')]
      paths += [os.path.join(dirpath, n) for n in names
                if not n.startswith('.')]
    for path in sorted(paths, key=base.natural_key):
      if not base.is_image(path):
        listing.skip('not an image file')
        continue
      rel = base.relpath(path, raw_dir)
      subject = rel
      if pattern is not None:
        m = pattern.search(rel)
        if m is None:
          listing.reject(rel, base.NO_SUBJECT,
                         f'subject_regex {pattern.pattern!r} does not match')
          continue
        subject = (m['subject'] if 'subject' in pattern.groupindex else
                   m[1] if pattern.groups else m[0])
      listing.items.append(base.Item(path=rel, expression=label,
                                     subject=subject))
  return listing
