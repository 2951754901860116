r"""Expression probabilities of the faces in photos, with a trained REL-GAN.

  python -m relgan_jax.predict --workdir=runs/ckplus photo1.jpg photo2.png
  python -m relgan_jax.predict --workdir=runs/ckplus --fold=3 --json \
      --save_crops=/tmp/crops photo.jpg
  python -m relgan_jax.predict --workdir=runs/ckplus --no_align crops/*.png

Each photo's faces are detected and aligned as the training data was (the
prepared manifest's eye template and stored size, `relgan_jax.data.align`), centre
cropped as in evaluation, encoded by the frozen expression encoder Ges (its
output f_e = f(e) is the expression code) and classified by the stage-2 MLP
(`relgan_jax.evaluation.inference`). Photos in which no face is found, or that cannot be
read, are reported as such: nothing is guessed for them. `--no_align` takes
each image as an already-aligned face (centre square, resized). In a group
photo every face the detector finds is classified, largest first; the dlib
backend searches coarse to fine and stops at the first scale with a face, so a
face much smaller than the largest one can be missed.

Output: a table (one row per face, the probability of every class and the
most likely one), or with `--json` one JSON document:
  {"model": {"folder", "class_names", "dataset"},
   "images": [{"path", "error" (null, "no face found", or why it could not be
               read), "faces": [{"box" ([left, top, right, bottom] photo
               pixels, null with --no_align), "expression",
               "probabilities": {class: p},
               "crop" (file, with --save_crops)}]}]}
The exit status is 0 when the model ran, whatever the photos held. A
command line that cannot work (a missing image file, --save_crops naming a
file) is one line `relgan_jax.predict: error: ...` and status 2; a workdir
without a trained model is one such line and status 1 (relgan_jax/cli.py).
"""

import json
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

NO_FACE = 'no face found'
PROG = 'relgan_jax.predict'

# The command's flags (absl, as main's; its own FlagValues: see cli.parse_flags).
FLAGS = flags.FlagValues()
flags.DEFINE_string('workdir', None, 'A protocol workdir (or one of its '
                    'fold_k folders).', flag_values=FLAGS)
flags.DEFINE_integer('fold', None, "Which fold's model (default: the first "
                     'finished one).', flag_values=FLAGS)
flags.DEFINE_boolean('json', False, 'Print JSON.', flag_values=FLAGS)
flags.DEFINE_string('save_crops', '', 'Save the aligned faces (PNG) in this '
                    'folder.', flag_values=FLAGS)
flags.DEFINE_boolean('no_align', False, 'The images are already aligned '
                     'faces: no detection.', flag_values=FLAGS)


def _crop_name(path: str, face: int, used: set[str]) -> str:
  stem = os.path.splitext(os.path.basename(path))[0]
  name, n = f'{stem}_face{face}.png', 1
  while name in used:  # Two photos with one file name, or an earlier run's.
    n += 1
    name = f'{stem}_{n}_face{face}.png'
  used.add(name)
  return name


def predict_photos(model: inference.ExpressionModel,
                   finder: faces.FaceFinder, paths: Sequence[str], *,
                   save_crops: Optional[str] = None) -> list[dict[str, Any]]:
  """Runs the model on every face of every photo.

  Args:
    model: the loaded Ges + MLP.
    finder: detects and aligns faces (or centre-crops with align=False).
    paths: image files.
    save_crops: a folder for the aligned faces (stored size), or None; a
      name already in it is never reused.

  Returns:
    One dict per path, as in the module docstring's JSON "images".
  """
  used: set[str] = set()  # Crop names taken, in the folder or by this run.
  if save_crops:
    os.makedirs(save_crops, exist_ok=True)
    used.update(os.listdir(save_crops))  # Another run's crops stay.
  out = []
  for path in paths:
    entry: dict[str, Any] = {'path': path, 'error': None, 'faces': []}
    out.append(entry)
    try:
      photo = faces.load_photo(path)
    except (OSError, ValueError) as e:
      entry['error'] = f'unreadable: {e}'
      continue
    found = finder(photo)
    if not found:
      entry['error'] = NO_FACE
      continue
    probabilities = model.predict_faces([f.crop for f in found])
    for j, (face, p) in enumerate(zip(found, probabilities)):
      row = {'box': None if face.box is None else [round(v, 1)
                                                    for v in face.box],
             'expression': model.class_names[int(np.argmax(p))],
             'probabilities': {name: float(v)
                               for name, v in zip(model.class_names, p)}}
      if save_crops:
        crop = os.path.join(save_crops, _crop_name(path, j, used))
        Image.fromarray(face.crop).save(crop)
        row['crop'] = crop
      entry['faces'].append(row)
  return out


def format_table(results: Sequence[dict[str, Any]],
                 class_names: Sequence[str]) -> str:
  """The results as a fixed-width text table, one row per face."""
  name_w = max([len('image')] + [len(os.path.basename(r['path']))
                                 for r in results])
  col_w = max(6, *(len(c) for c in class_names))
  head = (f'{"image":<{name_w}}  face  {"box":<21}  {"expression":<{col_w}}  '
          + '  '.join(f'{c:>{col_w}}' for c in class_names))
  lines = [head, '-' * len(head)]
  for r in results:
    name = os.path.basename(r['path'])
    if r['error']:
      lines.append(f'{name:<{name_w}}  {"-":>4}  {r["error"]}')
      continue
    for j, face in enumerate(r['faces']):
      box = ('(aligned input)' if face['box'] is None else
             '({:.0f},{:.0f},{:.0f},{:.0f})'.format(*face['box']))
      probs = '  '.join(f'{face["probabilities"][c]:>{col_w}.3f}'
                        for c in class_names)
      lines.append(f'{name:<{name_w}}  {j:>4}  {box:<21}  '
                   f'{face["expression"]:<{col_w}}  {probs}')
  return '\n'.join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
  """The command; a user error is one line `relgan_jax.predict: error: ...`
  on stderr and status 2 (command line) or 1 (workdir, model files)."""
  return cli.run(PROG, lambda: _main(argv),
                 user_errors=(FileNotFoundError, NotADirectoryError,
                              align.MissingExtraError))


def _main(argv: Optional[Sequence[str]]) -> int:
  images = cli.parse_flags(PROG, FLAGS, argv, required=['workdir'],
                           positional='IMAGE [IMAGE ...]')
  if not images:
    raise cli.UsageError('no image given: python -m relgan_jax.predict '
                         '--workdir=RUN IMAGE [IMAGE ...]')
  args = FLAGS
  if args.save_crops and os.path.exists(args.save_crops) and not (
      os.path.isdir(args.save_crops)):
    raise cli.UsageError(f'--save_crops={args.save_crops} is a file; give a '
                         'folder (it is created if missing).')
  missing = [p for p in images if not os.path.exists(p)]
  if missing:
    raise cli.UsageError(
        f'no such image file{"s" if len(missing) > 1 else ""}: '
        f'{", ".join(missing[:5])}{" ..." if len(missing) > 5 else ""}')
  if not os.path.isdir(args.workdir):
    raise cli.UserError(f'--workdir={args.workdir} is not a folder (a '
                        'protocol workdir or one of its fold_k folders).')
  model = inference.load_expression_model(args.workdir, args.fold)
  finder = faces.FaceFinder(model.preprocessing, align=not args.no_align)
  results = predict_photos(model, finder, images,
                           save_crops=args.save_crops or None)
  if args.json:
    doc = {'model': {'folder': model.folder,
                     'class_names': model.class_names,
                     'dataset': model.preprocessing.get('dataset')},
           'images': results}
    print(json.dumps(doc, indent=2))
  else:
    print(f'model: {model.folder} (dataset '
          f'{model.preprocessing.get("dataset")}, '
          f'{len(model.class_names)} classes)')
    print(format_table(results, model.class_names))
  return 0


if __name__ == '__main__':
  sys.exit(main())
