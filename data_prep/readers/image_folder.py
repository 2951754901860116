"""Generic reader: one sub-folder per expression class (pre-aligned data).

Layout (DESIGN.md §6):
  RAW/<class>/**/<image>
Classes are the sub-folder names in sorted order, or `options.classes` (then
folders not listed are skipped). The subject of an image comes from
`options.subject_regex`, searched in its file name (or, with
`options.subject_regex_on == 'path'`, in its path relative to RAW, for
layouts that keep the subject in a folder name): the group named 'subject' if
there is one, else group 1, else the whole match. A regex that matches no
file is an error naming an example file; one that matches only some says so
in a note (printed, and in the report) and rejects the rest. Without a regex
every image is its own subject (folds are then NOT subject-independent, and
the note says so).
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
  on_path = options.subject_regex_on == 'path'
  if options.subject_regex_on not in ('name', 'path'):
    raise base.ReaderError(f'subject_regex_on must be "name" or "path", got '
                           f'{options.subject_regex_on!r}')
  where = 'path' if on_path else 'name'
  unmatched = []
  listing = base.Listing(classes=classes)
  if pattern is None:
    listing.notes.append('no subject_regex: every image is its own subject, so '
                         'folds are not subject-independent')
  for folder in folders:
    if folder not in classes:
      skipped = [base.relpath(os.path.join(d, f), raw_dir) for d, _, fs in
                 os.walk(os.path.join(raw_dir, folder)) for f in fs]
      listing.skip(f'files in folders that are not a listed class ({folder}/)',
                   len(skipped), skipped)
      continue
    label = classes.index(folder)
    paths = []
    for dirpath, dirnames, names in os.walk(os.path.join(raw_dir, folder)):
      dirnames[:] = [d for d in dirnames if not d.startswith('.')]
      paths += [os.path.join(dirpath, n) for n in names
                if not n.startswith('.')]
    for path in sorted(paths, key=base.natural_key):
      rel = base.relpath(path, raw_dir)
      if not base.is_image(path):
        listing.skip(base.NOT_AN_IMAGE, 1, [rel])
        continue
      subject = rel
      if pattern is not None:
        m = pattern.search(rel if on_path else os.path.basename(rel))
        if m is None or not _subject(pattern, m):
          listing.reject(rel, base.NO_SUBJECT,
                         f'subject_regex {pattern.pattern!r} does not match '
                         f'the file {where}')
          unmatched.append(rel)
          continue
        subject = _subject(pattern, m)
      listing.items.append(base.Item(path=rel, expression=label,
                                     subject=subject))
  if pattern is not None and unmatched:
    example = unmatched[0] if on_path else os.path.basename(unmatched[0])
    hint = ('' if on_path else ' (--subject_regex_on=path searches the path '
            'relative to raw_dir instead)')
    if not listing.items:
      raise base.ReaderError(
          f"subject_regex '{pattern.pattern}' matches none of the "
          f'{len(unmatched)} image file {where}s in {raw_dir!r} (e.g. '
          f'{example!r}){hint}')
    listing.notes.append(
        f"subject_regex '{pattern.pattern}' does not match the file {where} "
        f'of {len(unmatched)} of {len(unmatched) + len(listing.items)} images '
        f'(e.g. {example!r}); they are left out (rejected: no subject){hint}')
  return listing


def _subject(pattern: re.Pattern, m: re.Match) -> str:
  """The group named 'subject', else group 1, else the whole match."""
  if 'subject' in pattern.groupindex:
    return m['subject'] or ''
  return (m[1] or '') if pattern.groups else m[0]
