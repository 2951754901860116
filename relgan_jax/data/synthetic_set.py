r"""The built-in synthetic face set: procedural faces written as prepared records.

A fresh machine has none of the licensed FER datasets, so the project ships a
generator on which the whole method can run and be judged. Each synthetic
person (identity) differs strongly (face shape, skin, hair, eyes, nose, brows,
glasses, beard, background, clothes; see `synthetic_people.sample_identity`), while
the 7 expression classes (neutral + anger, disgust, fear, happy, sadness,
surprise) are subtler but consistent changes of mouth, brows, eyelids and a few
wrinkles, at 3 intensities. The faces are eye-aligned crops, like those
`data_prep.prepare` makes of real photos (DESIGN.md §10): every image adds only
a residual misalignment of about a pixel, a slight yaw, a small lighting
flicker and sensor noise to its person's session (`synthetic_drawing.draw_face`),
and each (identity, expression) has several images, so a reenactment target
x_t and its ground truth x_tg can differ.

  python -m data_prep.synthetic --out_dir=data/synthetic \
      [--num_identities=64 --seed=0 --size=112 --num_folds=10 \
       --contact_sheet=synthetic.png] [--overwrite]

Folds are subject-independent (`relgan_jax.data.folds.assign_folds`) and stored in
the manifest. A folder that already holds a prepared set, or an existing
--contact_sheet file, is replaced only with --overwrite; arguments that
cannot work (more folds than people, ...) are refused before anything is
rendered, in one line
`data_prep.synthetic: error: ...` (relgan_jax/cli.py).
"""

import functools
import json
import multiprocessing
import os
import sys
import time
from typing import Any

from absl import app
from absl import flags
import numpy as np
from PIL import Image
from PIL import ImageDraw

from relgan_jax import cli
from relgan_jax.data import records
from relgan_jax.data import records_writer
from relgan_jax.data import synthetic_drawing
from relgan_jax.data import synthetic_people

EXPRESSION_CLASSES = synthetic_people.EXPRESSION_CLASSES
NEUTRAL = EXPRESSION_CLASSES.index('neutral')
_IDENTITY_TRANSFORM = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


class ArgumentError(ValueError):
  """An argument of `generate` that cannot work (the message names it)."""


class OutDirError(FileExistsError):
  """out_dir is a file, or holds a prepared set (no overwrite)."""


def check_out_dir(out_dir: str, overwrite: bool) -> None:
  """Refuses an out_dir that is a file, or that holds a complete prepared set
  unless `overwrite`."""
  if os.path.exists(out_dir) and not os.path.isdir(out_dir):
    raise OutDirError(f'out_dir {out_dir} is a file, not a folder.')
  manifest = os.path.join(out_dir, records.MANIFEST)
  if os.path.exists(manifest) and not overwrite:
    try:
      with open(manifest) as f:
        held = json.load(f)
      what = (f'a prepared {held.get("name", "?")} set of '
              f'{held.get("num_records", "?")} records')
    except (OSError, ValueError):
      what = 'a prepared set'
    raise OutDirError(f'{out_dir} already holds {what} ({manifest}); pass '
                      '--overwrite to replace it, or choose another --out_dir.')


def subject_id(identity: int) -> str:
  return f'syn{identity:04d}'


@functools.lru_cache(maxsize=128)
def _identity(seed: int, identity: int) -> dict[str, Any]:
  return synthetic_people.sample_identity(np.random.default_rng([seed, identity]))


def render_image(seed: int, identity: int, expression: int, intensity: int,
                 copy: int, size: int = 112, jitter: bool = True) -> np.ndarray:
  """Renders one image, a pure function of its arguments.

  Args:
    seed: the dataset seed.
    identity: person index.
    expression: index into EXPRESSION_CLASSES.
    intensity: 0 for neutral, else 1..len(synthetic_people.INTENSITIES).
    copy: which jittered copy.
    size: image side.
    jitter: add the per-image pose/lighting/noise jitter.

  Returns:
    uint8 [size, size, 3].
  """
  amplitude = 0.0 if intensity == 0 else synthetic_people.INTENSITIES[intensity - 1]
  rng = np.random.default_rng([seed, identity, expression, intensity, copy, 1])
  return synthetic_drawing.draw_face(_identity(seed, identity),
                                EXPRESSION_CLASSES[expression], amplitude, rng,
                                size=size, jitter=jitter)


def _image_plan(neutral_images: int, images_per_intensity: int):
  plan = [(NEUTRAL, 0, c) for c in range(neutral_images)]
  for e in range(len(EXPRESSION_CLASSES)):
    if e != NEUTRAL:
      plan += [(e, k, c) for k in range(1, len(synthetic_people.INTENSITIES) + 1)
               for c in range(images_per_intensity)]
  return plan


def _render_identity(args) -> list[dict[str, Any]]:
  """All records of one person (runs in a worker process)."""
  seed, identity, label, size, neutral_images, images_per_intensity = args
  subject = subject_id(identity)
  out = []
  for e, k, c in _image_plan(neutral_images, images_per_intensity):
    image = render_image(seed, identity, e, k, c, size)
    out.append(dict(
        png=records.encode_png(image), expression=e, identity=label,
        intensity=k, subject=subject, transform=_IDENTITY_TRANSFORM,
        source_path=(f'synthetic/{subject}/{EXPRESSION_CLASSES[e]}'
                     f'_i{k}_c{c}.png')))
  return out


def generate(out_dir: str, *, num_identities: int = 64, seed: int = 0,
             size: int = 112, num_folds: int = 10, neutral_images: int = 4,
             images_per_intensity: int = 2, workers: int | None = None,
             records_per_shard: int = 1000,
             first_identity: int = 0,
             overwrite: bool = False) -> dict[str, Any]:
  """Generates the synthetic set into `out_dir` and returns its manifest.

  Args:
    out_dir: destination folder; a complete prepared set there (its
      manifest.json) is replaced only with `overwrite`. The leftovers of an
      interrupted generation (shards without a manifest) are replaced.
    num_identities: number of people.
    seed: dataset seed; identities and images are pure functions of it.
    size: stored face side (the pipeline crops image_size from it).
    num_folds: subject-independent folds stored in the manifest.
    neutral_images: images of each person's neutral face.
    images_per_intensity: images per (expression, intensity) of each person.
    workers: rendering processes (default: the CPU count; <= 1: in-process).
    records_per_shard: records per TFRecord shard.
    first_identity: the people are first_identity .. first_identity +
      num_identities - 1 (subject ids syn<k>, identity labels 0..N-1), so
      sets with disjoint ranges share nobody (e.g. a stage-1 pre-training
      population beside the evaluation set).
    overwrite: replace a complete prepared set in out_dir.

  Raises:
    ArgumentError (a ValueError): an argument that cannot work, before
      anything is rendered.
    OutDirError (a FileExistsError): out_dir is a file, or holds a prepared
      set and overwrite is False.
  """
  # Everything cheap is checked before a single face is rendered.
  if num_identities < 2:
    raise ArgumentError(f'num_identities must be >= 2, got {num_identities}.')
  if neutral_images < 2 or images_per_intensity < 1:
    raise ArgumentError('need neutral_images >= 2 and images_per_intensity >= '
                        '1 so that every (person, expression) has two images.')
  if not 1 <= num_folds <= num_identities:
    raise ArgumentError(
        f'num_folds={num_folds} needs 1 <= num_folds <= num_identities='
        f'{num_identities} (every fold tests at least one person).')
  if size < 16:
    raise ArgumentError(f'size must be >= 16 pixels, got {size}.')
  if workers is None:
    workers = os.cpu_count() or 1
  workers = max(1, min(workers, num_identities))
  if first_identity < 0:
    raise ArgumentError(f'first_identity must be >= 0, got {first_identity}.')
  check_out_dir(out_dir, overwrite)
  jobs = [(seed, first_identity + i, i, size, neutral_images,
           images_per_intensity) for i in range(num_identities)]
  start = time.time()

  def examples(results):
    for person in results:
      yield from person

  settings = dict(generator='data_prep.synthetic', seed=seed,
                  num_identities=num_identities,
                  first_identity=first_identity, size=size,
                  neutral_images=neutral_images,
                  images_per_intensity=images_per_intensity,
                  intensities=list(synthetic_people.INTENSITIES))
  kwargs = dict(name='synthetic', expression_classes=EXPRESSION_CLASSES,
                num_folds=num_folds, prep_settings=settings, stored_size=size,
                records_per_shard=records_per_shard)
  if workers == 1:
    manifest = records_writer.write_prepared_dataset(
        out_dir, examples(map(_render_identity, jobs)), **kwargs)
  else:
    # 'spawn': safe even when the caller has already started JAX's threads.
    # Pickle the worker function by its importable name, also under `-m`.
    from relgan_jax.data import synthetic_set  # pylint: disable=import-outside-toplevel,import-self
    with multiprocessing.get_context('spawn').Pool(workers) as pool:
      manifest = records_writer.write_prepared_dataset(
          out_dir, examples(pool.imap(synthetic_set._render_identity, jobs)),  # pylint: disable=protected-access
          **kwargs)
  manifest['prep']['seconds'] = round(time.time() - start, 2)
  return manifest


def contact_sheet(path: str, *, num_identities: int = 8, seed: int = 0,
                  size: int = 112, intensity: int = 3,
                  first_identity: int = 0) -> np.ndarray:
  """Saves a PNG grid: people (rows) x expressions (columns), with labels."""
  label_h = 16
  cols = len(EXPRESSION_CLASSES)
  sheet = np.full((label_h + num_identities * size, cols * size, 3), 255, np.uint8)
  for r in range(num_identities):
    for e in range(cols):
      k = 0 if e == NEUTRAL else intensity
      sheet[label_h + r * size:label_h + (r + 1) * size, e * size:(e + 1) * size] = (
          render_image(seed, first_identity + r, e, k, 0, size))
  img = Image.fromarray(sheet)
  draw = ImageDraw.Draw(img)
  for e, name in enumerate(EXPRESSION_CLASSES):
    draw.text((e * size + 4, 2), name, fill=(0, 0, 0))
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  img.save(path)
  return np.asarray(img)


def _dir_bytes(path: str) -> int:
  return sum(os.path.getsize(os.path.join(path, f)) for f in os.listdir(path))


PROG = 'data_prep.synthetic'


def main(argv):
  del argv
  sys.exit(cli.run(PROG, _main, usage_errors=(ArgumentError,),
                   user_errors=(OutDirError,)))


def _main():
  f = flags.FLAGS
  if f.contact_sheet:  # Refused before anything is rendered.
    cli.check_new_output('contact_sheet', f.contact_sheet, f.overwrite)
  manifest = generate(f.out_dir, num_identities=f.num_identities, seed=f.seed,
                      size=f.size, num_folds=f.num_folds, workers=f.workers,
                      neutral_images=f.neutral_images,
                      images_per_intensity=f.images_per_intensity,
                      first_identity=f.first_identity, overwrite=f.overwrite)
  print(f'wrote {manifest["num_records"]} images of {f.num_identities} '
        f'identities ({_dir_bytes(f.out_dir) / 2**20:.1f} MiB) to {f.out_dir} in '
        f'{manifest["prep"]["seconds"]:.1f} s')
  if f.contact_sheet:
    contact_sheet(f.contact_sheet, seed=f.seed, size=f.size,
                  num_identities=min(8, f.num_identities))
    print(f'contact sheet: {f.contact_sheet}')


def define_flags():
  # Defined only when run as a script, so importing this module next to other
  # data_prep tools cannot clash on flag names.
  flags.DEFINE_string('out_dir', None, 'Destination folder.', required=True)
  flags.DEFINE_integer('num_identities', 64, 'Number of synthetic people.')
  flags.DEFINE_integer('seed', 0, 'Dataset seed.')
  flags.DEFINE_integer('first_identity', 0,
                       'Index of the first person (disjoint ranges share '
                       'nobody).')
  flags.DEFINE_integer('size', 112, 'Stored face side in pixels.')
  flags.DEFINE_integer('num_folds', 10, 'Subject-independent folds.')
  flags.DEFINE_integer('neutral_images', 4, 'Neutral images per person.')
  flags.DEFINE_integer('images_per_intensity', 2,
                       'Images per (expression, intensity) per person.')
  flags.DEFINE_integer('workers', None, 'Rendering processes (default: CPUs).')
  flags.DEFINE_string('contact_sheet', '', 'Also save a PNG contact sheet here.')
  flags.DEFINE_bool('overwrite', False,
                    'Replace a prepared set already in --out_dir, and an '
                    'existing --contact_sheet.')


def run_command_line() -> None:
  """`python -m data_prep.synthetic` (data_prep/synthetic.py)."""
  define_flags()
  app.run(main, flags_parser=cli.absl_flags_parser(PROG))
