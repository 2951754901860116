r"""Throughput of data_prep.prepare on fake trees in each dataset's layout.

  python -m benchmarks.prep_throughput --out=/tmp/prep_bench --workers=2

(with the package installed, `pip install -e '.[test]'`, or PYTHONPATH=.)

For every dataset a fixture tree (tests/fake_layouts.py) is filled with real
face photos (matplotlib's grace_hopper.jpg, scikit-image's astronaut if
installed) pasted on canvases of the dataset's frame size and format, then
prepared with face detection and alignment (image_folder: resize only). Printed
per dataset: images processed, wall seconds (including the workers' start-up
and the dlib model load), images per second, and the CPU seconds used (this
process and its workers; on a shared machine images per CPU second is the
steadier figure). A contact sheet of aligned
crops from every dataset is written to OUT/contact_sheet.png and the figures to
OUT/throughput.json.
"""

import json
import os
import resource
import shutil
import sys
import time

from absl import flags
import numpy as np
from PIL import Image

from data_prep import prepare
from data_prep.readers import ReaderOptions
from relgan_jax import cli
from relgan_jax.data import records

# The raw-layout fixtures are test code (tests/fake_layouts.py), not shipped.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'tests'))
import fake_layouts as fl  # noqa: E402  pylint: disable=g-import-not-at-top


FLAGS = flags.FLAGS
flags.DEFINE_string('out', '/tmp/prep_bench', 'Folder for the fixture trees, '
                    'the prepared sets and the figures (made by this script; '
                    'a folder that it did not make is refused).')
flags.DEFINE_integer('workers', 2, 'Preparation worker processes.')
flags.DEFINE_integer('images', 48, 'Protocol images per dataset.')

_MARK = 'prep_throughput.json'  # Marks a folder this script made.


def _cpu_seconds() -> float:
  """User + system CPU time of this process and its finished workers."""
  return sum(r.ru_utime + r.ru_stime for r in (
      resource.getrusage(resource.RUSAGE_SELF),
      resource.getrusage(resource.RUSAGE_CHILDREN)))


def build_trees(root: str, n: int) -> dict[str, str]:
  """Fake trees with about n protocol images each; returns {dataset: raw}."""
  faces = fl.sample_faces()
  # Face height / frame height, as in the real datasets (estimated).
  paint = {d: fl.face_painter(faces, f) for d, f in (
      ('ckplus', 0.5), ('oulu_casia', 0.55), ('bu3dfe', 0.6), ('bu4dfe', 0.5),
      ('sfew', 0.3), ('image_folder', 0.45))}
  seqs = max(1, n // 3)
  raw = {d: os.path.join(root, 'raw', d) for d in paint}
  fl.make_ckplus(raw['ckplus'], {
      (f'S{100 + k:03d}', '001'): (5, float(1 + k % 7)) for k in range(seqs)},
                 paint['ckplus'])
  oulu_folders = ('Anger', 'Disgust', 'Fear', 'Happiness', 'Sadness',
                  'Surprise')
  oulu = {}
  for k in range(seqs):
    oulu.setdefault(f'P{k // 6 + 1:03d}', {})[oulu_folders[k % 6]] = 4
  fl.make_oulu_casia(raw['oulu_casia'], oulu, paint['oulu_casia'])
  fl.make_bu3dfe(raw['bu3dfe'],
                 {f'F{k + 1:04d}': 'WH' for k in range(max(1, n // 12))},
                 paint['bu3dfe'], intensities=(3, 4))
  fl.make_bu4dfe(raw['bu4dfe'],
                 {'F001': {'Angry': n // 2}, 'M001': {'Happy': n - n // 2}},
                 paint['bu4dfe'], size=(1040, 1329))
  fl.make_sfew(raw['sfew'],
               {'Train': {'Angry': n // 2}, 'Val': {'Happy': n - n // 2}},
               paint['sfew'])
  fl.make_image_folder(raw['image_folder'], {
      c: [f's{k % 5}_{k}.png' for k in range(n // 2)] for c in ('a', 'b')},
                       paint['image_folder'])
  return raw


def main(argv):
  del argv
  args = FLAGS
  if os.path.exists(args.out) and os.listdir(args.out) and not (
      os.path.exists(os.path.join(args.out, _MARK))):
    raise cli.UsageError(f'--out={args.out} holds files this benchmark did '
                         'not make; give a new or empty folder.')
  shutil.rmtree(args.out, ignore_errors=True)  # An earlier run of this script.
  os.makedirs(args.out)
  with open(os.path.join(args.out, _MARK), 'w') as f:
    json.dump({'made_by': 'benchmarks/prep_throughput.py'}, f)
  raw = build_trees(args.out, args.images)
  results, sheet = {}, []
  for dataset, raw_dir in raw.items():
    out = os.path.join(args.out, 'prepared', dataset)
    extra = dict(options=ReaderOptions(subject_regex=r's\d')) if (
        dataset == 'image_folder') else {}
    start, cpu0 = time.perf_counter(), _cpu_seconds()
    manifest = prepare.prepare(dataset, raw_dir, out, workers=args.workers,
                               num_folds=2,
                               progress=False, **extra)
    seconds = time.perf_counter() - start
    cpu = _cpu_seconds() - cpu0
    with open(os.path.join(out, records.REPORT)) as f:
      report = json.load(f)
    processed = report['totals']['listed']
    results[dataset] = dict(
        images=processed, written=manifest['num_records'],
        rejected=report['rejected_by_reason'],
        align=manifest['prep']['align'], seconds=round(seconds, 2),
        images_per_s=round(processed / seconds, 2),
        cpu_seconds=round(cpu, 2),
        images_per_cpu_s=round(processed / cpu, 2))
    print(dataset, results[dataset], flush=True)
    ds = records.PreparedDataset(out)
    picks = np.linspace(0, len(ds) - 1, 6).astype(int)
    sheet.append(np.concatenate([np.asarray(Image.fromarray(
        ds[int(i)]['image']).resize((112, 112))) for i in picks], axis=1))
  Image.fromarray(np.concatenate(sheet, axis=0)).save(
      os.path.join(args.out, 'contact_sheet.png'))
  with open(os.path.join(args.out, 'throughput.json'), 'w') as f:
    json.dump(dict(workers=args.workers, cpu_count=os.cpu_count(),
                   results=results), f, indent=1)


if __name__ == '__main__':
  cli.absl_run('benchmarks.prep_throughput', main)
