r"""Face reenactment with a trained REL-GAN: one person, another's expression.

  # The target's person wearing the source's expression (one face image):
  python -m relgan_jax.reenact --workdir=runs/ckplus --source=smile.jpg \
      --target=friend.jpg --out=friend_smiling.png

  # Folders (or --grid): every source on every target, as a labelled grid
  # (rows: sources, columns: targets, like the paper's Fig. 3):
  python -m relgan_jax.reenact --workdir=runs/ckplus --source=sources/ \
      --target=targets/ --out=grid.png [--changes_out=changes.png]

Paper names: the source face x_s gives the expression through the expression
encoder Ges (f_e = Ges(x_s)), the target face x_t gives the identity through
the identity encoder Get (f_i = Get(x_t)), and the decoder Gde draws
x_bar = Gde(f_e, f_i). G comes from the run's stage-1 checkpoint
(`relgan_jax.evaluation.inference.load_reenactor`: a protocol workdir's first fold with
one, --fold, a fold folder, or a stage-1 workdir).

Each photo's largest face is detected and aligned as the training data was,
then centre cropped as in evaluation (`--no_align`: the images are aligned
faces already). Photos without a face are reported and left out; with no
usable source or target the command fails. --changes_out also saves the
grid's change panel (each cell minus its column's mean over the sources, x3:
what the sources' expressions change in each target). An existing output
file is never replaced without --overwrite.
"""

import os
import sys
from typing import Any, Optional, Sequence

from absl import flags
import numpy as np
from PIL import Image

from relgan_jax import cli
from relgan_jax.data import align
from relgan_jax.data import faces
from relgan_jax.evaluation import inference
from relgan_jax.stage1 import reenactment

PROG = 'relgan_jax.reenact'

# The command's flags (absl, as main's; its own FlagValues: see cli.parse_flags).
FLAGS = flags.FlagValues()
flags.DEFINE_string('workdir', None, 'A protocol workdir, one fold_k folder, '
                    'or a stage-1 workdir.', flag_values=FLAGS)
flags.DEFINE_integer('fold', None, "Which fold's G (default: the first with a "
                     'checkpoint).', flag_values=FLAGS)
flags.DEFINE_string('source', None, 'Image (or folder of images) giving the '
                    'expression.', flag_values=FLAGS)
flags.DEFINE_string('target', None, 'Image (or folder of images) giving the '
                    'identity.', flag_values=FLAGS)
flags.DEFINE_string('out', None, 'Output PNG.', flag_values=FLAGS)
flags.DEFINE_boolean('grid', False, 'Write the labelled grid even for one '
                     'source and target.', flag_values=FLAGS)
flags.DEFINE_boolean('no_align', False, 'The images are already aligned '
                     'faces: no detection.', flag_values=FLAGS)
flags.DEFINE_string('changes_out', None, "Also save the grid's change panel "
                    "(x_bar minus its column's mean over the sources, x3) "
                    'here: a PNG; needs two or more source images.',
                    flag_values=FLAGS)
flags.DEFINE_boolean('overwrite', False, 'Replace --out (and --changes_out) '
                     'if they exist.', flag_values=FLAGS)


class NoUsableFaceError(ValueError):
  """No source (or no target) photo has a usable face."""

IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.gif', '.tif', '.tiff',
                    '.webp', '.ppm', '.pgm')


def list_images(path: str) -> list[str]:
  """`path` itself if it is a file, else the image files in the folder."""
  if os.path.isdir(path):
    found = sorted(os.path.join(path, n) for n in os.listdir(path)
                   if n.lower().endswith(IMAGE_EXTENSIONS))
    if not found:
      raise FileNotFoundError(f'No image files ({", ".join(IMAGE_EXTENSIONS)})'
                              f' in {path}.')
    return found
  if not os.path.exists(path):
    raise FileNotFoundError(f'{path} does not exist.')
  return [path]


def faces_of(paths: Sequence[str], finder: faces.FaceFinder,
             preprocessing: dict[str, Any]
             ) -> tuple[np.ndarray, list[str], list[tuple[str, str]]]:
  """The model-input crops of each photo's largest face.

  Returns:
    (crops uint8 [N, S, S, 3], the N paths used, [(path, why)] left out).
  """
  crops, used, skipped = [], [], []
  for path in paths:
    try:
      photo = faces.load_photo(path)
    except (OSError, ValueError) as e:
      skipped.append((path, f'unreadable: {e}'))
      continue
    found = finder(photo, all_faces=False)
    if not found:
      skipped.append((path, 'no face found'))
      continue
    crops.append(found[0].crop)
    used.append(path)
  if not crops:
    return np.zeros((0,), np.uint8), used, skipped
  return (faces.model_inputs(np.stack(crops), preprocessing,
                                 five_crop=False), used, skipped)


def reenact_paths(reenactor: inference.Reenactor, finder: faces.FaceFinder,
                  sources: Sequence[str], targets: Sequence[str], out: str, *,
                  grid: bool = False,
                  changes_out: Optional[str] = None) -> dict[str, Any]:
  """Reenacts every source photo's expression on every target photo's face.

  Writes `out`: the generated face alone (one source, one target, no grid),
  else the labelled grid; and `changes_out`, when given and two or more
  sources have a usable face, the grid's change panel
  (`reenactment.plot_change_panel`).

  Returns:
    {'out', 'changes' (the panel's path, or None when not written),
     'sources', 'targets' (paths used), 'skipped': [(path, why)],
     'generated': uint8 [R, C, S, S, 3]}.

  Raises:
    NoUsableFaceError (a ValueError): when no source or no target has a
      usable face.
  """
  prep = reenactor.preprocessing
  x_s, used_s, skipped_s = faces_of(sources, finder, prep)
  x_t, used_t, skipped_t = faces_of(targets, finder, prep)
  skipped = skipped_s + skipped_t
  for role, used, given in (('source', used_s, sources),
                            ('target', used_t, targets)):
    if not used:
      why = '; '.join(f'{p}: {w}' for p, w in skipped if p in given)
      raise NoUsableFaceError(f'No usable {role} face ({why}).')
  x_bar = reenactor.reenact(x_s, x_t)
  os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
  stem = lambda p: os.path.splitext(os.path.basename(p))[0][-14:]  # noqa: E731
  labels = dict(source_labels=[stem(p) for p in used_s],
                target_labels=[stem(p) for p in used_t])
  title = ('rows: source x_s (expression); columns: target x_t (identity); '
           'cell: Gde(Ges(x_s), Get(x_t))')
  if grid or x_bar.shape[:2] != (1, 1):
    reenactment.plot_reenactment_grid(x_s, x_t, x_bar, out, title=title,
                                      **labels)
  else:
    Image.fromarray(x_bar[0, 0]).save(out)
  changes = None
  if changes_out and len(used_s) >= 2:
    os.makedirs(os.path.dirname(os.path.abspath(changes_out)), exist_ok=True)
    reenactment.plot_change_panel(x_s, x_t, x_bar, changes_out, title=title,
                                  **labels)
    changes = changes_out
  return {'out': out, 'changes': changes, 'sources': used_s,
          'targets': used_t, 'skipped': skipped, 'generated': x_bar}


def main(argv: Optional[Sequence[str]] = None) -> int:
  """The command; a user error is one line `relgan_jax.reenact: error: ...`
  on stderr and status 2 (command line: a missing --source/--target, --out
  a folder or an existing file without --overwrite) or 1 (workdir without G,
  no usable face)."""
  return cli.run(PROG, lambda: _main(argv),
                 user_errors=(FileNotFoundError, NotADirectoryError,
                              align.MissingExtraError))


def _main(argv: Optional[Sequence[str]]) -> int:
  cli.parse_flags(PROG, FLAGS, argv,
                  required=['workdir', 'source', 'target', 'out'])
  args = FLAGS
  try:
    sources, targets = list_images(args.source), list_images(args.target)
  except FileNotFoundError as e:
    raise cli.UsageError(e) from e
  outputs = [('out', args.out)]
  if args.changes_out:
    if len(sources) < 2:
      raise cli.UsageError('--changes_out needs two or more source images '
                           '(the panel shows each minus their mean).')
    if os.path.abspath(args.changes_out) == os.path.abspath(args.out):
      raise cli.UsageError('--changes_out and --out name the same file.')
    outputs.append(('changes_out', args.changes_out))
  for name, path in outputs:
    cli.check_new_output(name, path, args.overwrite)
  if not os.path.isdir(args.workdir):
    raise cli.UserError(f'--workdir={args.workdir} is not a folder (a '
                        'protocol workdir, one of its fold_k folders, or a '
                        'stage-1 workdir).')
  reenactor = inference.load_reenactor(args.workdir, args.fold)
  finder = faces.FaceFinder(reenactor.preprocessing,
                                align=not args.no_align)
  try:
    result = reenact_paths(reenactor, finder, sources, targets, args.out,
                           grid=args.grid, changes_out=args.changes_out)
  except NoUsableFaceError as e:
    raise cli.UserError(e) from e
  for path, why in result['skipped']:
    print(f'left out {path}: {why}', file=sys.stderr)
  rows, cols = result['generated'].shape[:2]
  print(f'wrote {args.out}: {rows} source(s) x {cols} target(s), G from '
        f'{reenactor.folder}')
  if result['changes']:
    print(f'wrote {result["changes"]}: the change panel')
  elif args.changes_out:
    print(f'no change panel: {rows} source face was usable, it needs two or '
          'more', file=sys.stderr)
  return 0


if __name__ == '__main__':
  sys.exit(main())
