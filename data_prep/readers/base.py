"""What every dataset reader returns, and the file-tree helpers they share.

A reader walks one raw dataset layout (DESIGN.md §6) without opening any image
and returns a `Listing`: the images the protocol uses (`Item`s, each with its
expression class and subject), the stage-1-only images (CK+ and Oulu-CASIA:
each used sequence's first, neutral frame; x_t candidates of stage 1 only, in
no class or test set, DESIGN.md §4), every input it could not use
(`Rejection`s with path and reason), and counts of files left out by the
protocol itself (frames before the last three, lower intensities, ...). Paths
are relative to the raw folder, with '/' separators.
"""

import dataclasses
import os
import re
from typing import Any, Callable, Sequence

# Rejection reasons (prep_report.json groups by these).
UNREADABLE = 'unreadable'
NO_FACE = 'no face'
NO_LABEL = 'no label'
AMBIGUOUS_LABEL = 'ambiguous label'
DUPLICATE = 'duplicate'
NO_SUBJECT = 'no subject'
NO_IMAGES = 'no images'
PROCESSING_ERROR = 'processing error'  # Detection/alignment raised.

# Files the protocol leaves out (counted in prep_report.json's
# skipped_by_protocol, the first MAX_SKIPPED_EXAMPLES of each kind named).
NOT_AN_IMAGE = 'not an image file'
MAX_SKIPPED_EXAMPLES = 20

IMAGE_EXTENSIONS = frozenset(
    {'.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.ppm', '.pgm', '.gif'})

# The expression label of a stage-1-only item: no protocol class.
STAGE1_ONLY_EXPRESSION = -1

# The six basic expressions, in one order shared by every 6-class dataset.
BASIC_SIX = ('anger', 'disgust', 'fear', 'happy', 'sadness', 'surprise')


class ReaderError(ValueError):
  """The raw tree or the reader options cannot give a listing (the message
  names what and, where it helps, an example file)."""


@dataclasses.dataclass(frozen=True)
class Item:
  """One image the protocol uses.

  Attributes:
    path: relative to the raw folder, '/'-separated.
    expression: class index into `Listing.classes` (-1 for a stage-1-only
      item).
    subject: subject id (the identity); for datasets without identities a
      unique id per image.
    split: '' for fold datasets; 'train' or 'test' for fixed splits.
    intensity: expression intensity where the dataset has one, else None.
    stage1_only: a neutral face usable only as stage 1's x_t.
  """
  path: str
  expression: int
  subject: str
  split: str = ''
  intensity: int | None = None
  stage1_only: bool = False


@dataclasses.dataclass(frozen=True)
class Rejection:
  """One input not used, with why."""
  path: str
  reason: str
  detail: str = ''


@dataclasses.dataclass
class Listing:
  """A reader's answer.

  Attributes:
    classes: expression class names; index = class label.
    items: the images to prepare, in a deterministic order.
    stage1_only: the stage-1-only images (neutral faces, expression -1), in
      a deterministic order.
    rejections: inputs not used (reported by path).
    skipped: {why: count} of files the protocol leaves out by design.
    skipped_examples: {why: the first MAX_SKIPPED_EXAMPLES of those files}
      (paths), so that a report names what it left out.
    has_identities: False for datasets without subject ids (SFEW, ...): every
      image is its own subject and has identity -1.
    fixed_split: True when `Item.split` gives train/test (no folds).
    notes: remarks for the report (assumptions made, fallbacks taken).
  """
  classes: tuple[str, ...]
  items: list[Item] = dataclasses.field(default_factory=list)
  stage1_only: list[Item] = dataclasses.field(default_factory=list)
  rejections: list[Rejection] = dataclasses.field(default_factory=list)
  skipped: dict[str, int] = dataclasses.field(default_factory=dict)
  skipped_examples: dict[str, list[str]] = dataclasses.field(
      default_factory=dict)
  has_identities: bool = True
  fixed_split: bool = False
  notes: list[str] = dataclasses.field(default_factory=list)

  def skip(self, why: str, count: int = 1,
           paths: Sequence[str] = ()) -> None:
    """Counts `count` files left out for `why`; `paths` names them (or
    some of them)."""
    if count:
      self.skipped[why] = self.skipped.get(why, 0) + count
    examples = self.skipped_examples.setdefault(why, []) if paths else []
    examples += list(paths)[:MAX_SKIPPED_EXAMPLES - len(examples)]

  def reject(self, path: str, reason: str, detail: str = '') -> None:
    self.rejections.append(Rejection(path, reason, detail))

  def add_first_frame(self, path: str, subject: str) -> None:
    """Keeps a sequence's first (neutral) frame as a stage-1-only item."""
    self.stage1_only.append(Item(path=path, expression=STAGE1_ONLY_EXPRESSION,
                                 subject=subject, stage1_only=True))


@dataclasses.dataclass(frozen=True)
class ReaderOptions:
  """Protocol options; each reader reads the fields that concern it."""
  frames_per_sequence: int = 3  # CK+, Oulu-CASIA: last N frames.
  # CK+, Oulu-CASIA: also keep each used sequence's first (neutral) frame as
  # a stage-1-only record (x_t only; DESIGN.md §4).
  neutral_first_frames: bool = True
  frame_stride: int = 1  # BU-4DFE: every k-th frame.
  include_neutral: bool = False  # BU-3DFE: add the neutral (00) image.
  subject_regex: str | None = None  # image_folder.
  # image_folder: search subject_regex in the file 'name' or the 'path'
  # relative to the raw folder.
  subject_regex_on: str = 'name'
  classes: tuple[str, ...] | None = None  # image_folder: fixed class order.

  def as_dict(self) -> dict[str, Any]:
    return dataclasses.asdict(self)


def natural_key(name: str) -> list[Any]:
  """Sort key ordering 'f2' before 'f10' (frame numbers as integers)."""
  return [int(t) if t.isdigit() else t.lower()
          for t in re.split(r'(\d+)', name)]


def is_image(name: str) -> bool:
  return os.path.splitext(name)[1].lower() in IMAGE_EXTENSIONS


def subdirs(path: str) -> list[str]:
  """Names of the visible sub-folders of `path`, naturally sorted."""
  with os.scandir(path) as it:
    names = [e.name for e in it if e.is_dir() and not e.name.startswith('.')]
  return sorted(names, key=natural_key)


def files(path: str) -> list[str]:
  """Names of the visible files of `path`, naturally sorted."""
  with os.scandir(path) as it:
    names = [e.name for e in it if e.is_file() and not e.name.startswith('.')]
  return sorted(names, key=natural_key)


def image_files(path: str, listing: Listing, *, raw_dir: str) -> list[str]:
  """Image file names in `path`; other visible files are counted as skipped
  (named by their path relative to `raw_dir`)."""
  names = files(path)
  images = [n for n in names if is_image(n)]
  others = [relpath(os.path.join(path, n), raw_dir) for n in names
            if not is_image(n)]
  listing.skip(NOT_AN_IMAGE, len(others), others)
  return images


def relpath(path: str, root: str) -> str:
  return os.path.relpath(path, root).replace(os.sep, '/')


def find_root(raw_dir: str, candidates: list[str], looks_right,
              layout: str) -> str:
  """The first of `raw_dir/c` (c in candidates) for which `looks_right(path)`.

  Raises:
    FileNotFoundError: naming the expected layout when none matches.
  """
  if not os.path.isdir(raw_dir):
    raise FileNotFoundError(f'raw_dir {raw_dir!r} is not a folder')
  for c in candidates:
    path = os.path.normpath(os.path.join(raw_dir, c))
    if os.path.isdir(path) and looks_right(path):
      return path
  raise FileNotFoundError(
      f'{raw_dir!r} does not look like {layout} (looked in '
      f'{", ".join(repr(c) for c in candidates)})')


def read_subject_expression_tree(
    root: str, raw_dir: str, listing: Listing, *, subject_pattern: str,
    folder_classes: dict[str, int], select: Callable[[list[str]], list[str]],
    skip_why: str, first_frame_stage1: bool = False) -> None:
  """Reads ROOT/<subject>/<expression folder>/<frames> into `listing`.

  The layout of Oulu-CASIA and BU-4DFE. Expression folders are matched
  case-insensitively; folders that are not a subject or not an expression are
  rejected by path.

  Args:
    root: the folder holding the subject folders.
    raw_dir: paths are reported relative to it.
    listing: filled in place.
    subject_pattern: regex a subject folder name must match in full.
    folder_classes: lower-case expression folder name -> class index.
    select: picks the frames to use from the naturally sorted frame names.
    skip_why: how the report names the frames `select` leaves out.
    first_frame_stage1: keep each sequence's first frame, when `select`
      leaves it out, as a stage-1-only item (Oulu-CASIA: neutral first).
  """
  for subject in subdirs(root):
    subject_dir = os.path.join(root, subject)
    if not re.fullmatch(subject_pattern, subject):
      listing.reject(relpath(subject_dir, raw_dir), NO_SUBJECT,
                     f'folder name does not match {subject_pattern!r}')
      continue
    for folder in subdirs(subject_dir):
      seq_dir = os.path.join(subject_dir, folder)
      label = folder_classes.get(folder.lower())
      if label is None:
        listing.reject(relpath(seq_dir, raw_dir), NO_LABEL,
                       f'unknown expression folder {folder!r}; expected one '
                       f'of {sorted(folder_classes)} (any case)')
        continue
      frames = image_files(seq_dir, listing, raw_dir=raw_dir)
      if not frames:
        listing.reject(relpath(seq_dir, raw_dir), NO_IMAGES,
                       'expression folder has no images')
        continue
      chosen = select(frames)
      first = first_frame_stage1 and frames[0] not in chosen
      listing.skip(skip_why, len(frames) - len(chosen) - first)
      if first:
        listing.add_first_frame(relpath(os.path.join(seq_dir, frames[0]),
                                        raw_dir), subject)
      for name in chosen:
        listing.items.append(Item(
            path=relpath(os.path.join(seq_dir, name), raw_dir),
            expression=label, subject=subject))
