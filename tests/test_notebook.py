"""Executes notebooks/relgan_demo.ipynb at its smallest settings (on the CPU,
its protocol cell runs `python -m relgan_jax.main` in a process of its own),
then checks what the run left in its workdir (report, figures, stage-1 TensorBoard
reenactment images) and that the trained fold serves the apps.

The kernel is this test's own interpreter (benchmarks/run_notebook.py, which
writes a kernelspec to a temporary JUPYTER_PATH), so a fresh CI venv needs no
registered kernel.
"""

import contextlib
import io
import json
import os

import nbformat
import numpy as np
from PIL import Image
import pytest

from benchmarks import run_notebook
from relgan_jax import predict
from relgan_jax.data import records
from relgan_jax.data import tfrecord
from relgan_jax.evaluation import inference

NOTEBOOK = run_notebook.NOTEBOOK


def _code_cells(nb):
  return [c for c in nb.cells if c.cell_type == 'code']


@pytest.fixture(scope='module')
def executed(tmp_path_factory):
  root = tmp_path_factory.mktemp('notebook')
  workdir = root / 'workdir'
  nb = run_notebook.execute(str(root / 'jupyter'), str(workdir), small=True,
                            timeout=300, progress=True)  # nbclient's hook.
  return nb, str(workdir)


def test_first_code_cell_installs_only_when_missing():
  nb = nbformat.read(NOTEBOOK, as_version=4)
  first = _code_cells(nb)[0].source
  assert "find_spec('relgan_jax') is None" in first
  assert "'pip', 'install'" in first
  params = [c for c in _code_cells(nb)
            if 'parameters' in c.metadata.get('tags', [])]
  assert len(params) == 1 and 'RELGAN_DEMO_SMALL' in params[0].source
  assert all(not c.outputs for c in _code_cells(nb))  # Committed clean.


def test_notebook_runs_and_shows_its_pictures(executed):
  nb, workdir = executed
  images = [o for c in _code_cells(nb) for o in c.outputs
            if 'image/png' in o.get('data', {})]
  # Contact sheet, reenactment grid and its change panel, API reenactment,
  # confusion matrix, embedding.
  assert len(images) >= 6
  errors = [o for c in _code_cells(nb) for o in c.outputs
            if o.output_type == 'error']
  assert not errors
  with open(os.path.join(workdir, 'report.json')) as f:
    report = json.load(f)
  assert report['num_folds'] == 1
  assert len(report['relgan']['fold_accuracy']) == 1
  # The report's measures reach the notebook's printout.
  printed = run_notebook.shown_text(nb)
  measures = report['disentanglement']
  strength = measures['expression_strength']['mean']
  # On a CPU runtime the protocol ran as `python -m relgan_jax.main` in its
  # own process (main's first log line), its log shown in the notebook.
  assert 'devices (cpu); glibc malloc tuned:' in printed
  assert 'Report written to' in printed
  assert f'expression strength: x̄ draws {strength:.1f}%' in printed
  assert (f"identity kept: {measures['identity_kept']['mean']:.1f}%"
          in printed)
  assert (f"expression match: in {measures['expression_match']['mean']:.1f}%"
          in printed)
  for name in ('reenactment_grid.png', 'reenactment_changes.png',
               'confusion_matrix.png', 'embedding.png'):
    assert Image.open(os.path.join(workdir, name)).size[0] > 100


def test_stage1_events_hold_reenactment_images(executed):
  """train_gan's TensorBoard image summary, read back without TensorFlow."""
  from tensorboardX.proto import event_pb2  # noqa: PLC0415
  _, workdir = executed
  logdir = os.path.join(workdir, 'fold_0', 'stage1', 'tensorboard')
  images = []
  for name in sorted(os.listdir(logdir)):
    for payload in tfrecord.read_records(os.path.join(logdir, name)):
      event = event_pb2.Event.FromString(payload)
      images += [(event.step, v.image) for v in event.summary.value
                 if v.tag == 'reenactment' and v.HasField('image')]
  assert [step for step, _ in images] == [1, 2]
  for _, image in images:
    png = Image.open(io.BytesIO(image.encoded_image_string))
    assert (png.width, png.height) == (image.width, image.height)
    # Targets on top, sources on the left: (sources + 1) x (targets + 1)
    # cells of 32 px.
    assert image.width % 32 == 0 and image.height % 32 == 0
    assert image.width >= 64 and image.height >= 64


def test_trained_fold_serves_predict(executed):
  _, workdir = executed
  fold_dir = os.path.join(workdir, 'fold_0')
  assert os.path.isdir(os.path.join(fold_dir, 'classifier'))
  face = os.path.join(workdir, 'face.png')
  with open(os.path.join(workdir, 'report.json')) as f:
    data_dir = json.load(f)['config']['data']['dir']
  dataset = records.PreparedDataset(data_dir)
  Image.fromarray(dataset[0]['image']).save(face)
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    assert predict.main(['--workdir', workdir, '--json', '--no_align',
                         face]) == 0
  doc = json.loads(out.getvalue())
  probabilities = doc['images'][0]['faces'][0]['probabilities']
  assert list(probabilities) == dataset.manifest['expression_classes']
  assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-6)
  assert inference.load_reenactor(workdir).folder == fold_dir
  np.testing.assert_array_equal(
      inference.load_expression_model(workdir).class_names,
      dataset.manifest['expression_classes'])
