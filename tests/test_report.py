"""Tests for relgan_jax.evaluation.report: the report's keys, values, table and figures."""

import json
import os
import subprocess
import sys

import ml_collections
import numpy as np
from PIL import Image
import pytest

from relgan_jax.evaluation import report
from relgan_jax.stage1 import reenactment

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLASSES = ('anger', 'happy', 'surprise')


def _fold(fold, cm, base_cm, leak=(20.0, 60.0, 10.0)):
  cm, base_cm = np.asarray(cm), np.asarray(base_cm)
  return {
      'fold': fold,
      'relgan': {'accuracy': 100.0 * np.trace(cm) / cm.sum(),
                 'confusion_matrix': cm.tolist()},
      'baseline': {'accuracy': 100.0 * np.trace(base_cm) / base_cm.sum(),
                   'confusion_matrix': base_cm.tolist()},
      'identity_leakage': dict(zip(('relgan', 'baseline', 'chance'), leak)),
  }


def _config():
  config = ml_collections.ConfigDict()
  config.seed = 3
  config.augment = ml_collections.ConfigDict({'rotations': (-3.0, 0.0, 3.0)})
  return config


FOLDS = [
    _fold(0, [[2, 0, 0], [0, 2, 0], [0, 0, 1]],  # 5/5
          [[1, 1, 0], [0, 2, 0], [0, 1, 0]]),  # 3/5
    _fold(1, [[1, 1, 0], [0, 2, 0], [0, 0, 1]],  # 4/5
          [[1, 1, 0], [1, 1, 0], [0, 0, 1]],  # 3/5
          leak=(30.0, 80.0, 10.0)),
]


def _with_measures(result, k):
  """`result` plus what disentanglement.run_fold adds; fold k's values are
  base + 10 k (the means over folds 0 and 1 are base + 5, the std 7.07)."""
  result = dict(result)

  def v(base):
    return base + 10.0 * k

  result['untrained_ges'] = {'accuracy': v(20.0), 'train_accuracy': v(30.0)}
  result['identity_leakage'] = dict(result['identity_leakage'],
                                    untrained_ges=v(90.0))
  result['retrieval'] = {
      'relgan': {'same_expression': v(60.0), 'same_person': v(10.0)},
      'baseline': {'same_expression': v(50.0), 'same_person': v(40.0)},
      'untrained_ges': {'same_expression': v(30.0), 'same_person': v(70.0)},
      'chance': {'same_expression': 33.0, 'same_person': 20.0}}
  result['reenactment'] = {
      'expression_transfer': v(45.0), 'baseline_real_accuracy': v(55.0),
      'expression_chance': 100 / 3, 'identity_kept': v(75.0),
      'identity_source': v(5.0), 'identity_chance': 25.0,
      'expression_strength': v(30.0), 'expression_match': v(70.0),
      'expression_match_chance': 100 / 3 + k,
      'expression_match_photos': v(78.0), 'num_pairs': 12 + k,
      # By x_s's class; fold 1 has no source of class 0 (a small fold).
      'expression_transfer_by_class': [None if k else 90.0, v(40.0), 20.0],
      'expression_strength_by_class': [None if k else 35.0, v(30.0), -5.0],
      'expression_match_by_class': [None if k else 80.0, v(60.0), 0.0],
      'expression_match_photos_by_class': [None if k else 90.0, v(50.0),
                                           100.0]}
  return result


NEW_FOLDS = [_with_measures(r, k) for k, r in enumerate(FOLDS)]


def test_summarize_values_by_hand():
  rep = report.summarize(FOLDS, _config(), dataset_name='synthetic',
                         class_names=CLASSES, seconds=12.5)
  assert tuple(rep) == report.REPORT_KEYS
  assert rep['num_folds'] == 2
  assert rep['relgan']['fold_accuracy'] == [100.0, 80.0]
  assert rep['relgan']['mean'] == pytest.approx(90.0)
  # Sample std of (100, 80) = sqrt(200) = 14.142...
  assert rep['relgan']['std'] == pytest.approx(np.sqrt(200.0))
  assert rep['baseline']['fold_accuracy'] == [60.0, 60.0]
  assert rep['baseline']['std'] == 0.0
  assert rep['confusion_matrix'] == [[3, 1, 0], [0, 4, 0], [0, 0, 2]]
  assert rep['identity_leakage'] == {'relgan': 25.0, 'baseline': 70.0,
                                     'chance': 10.0}
  assert rep['config']['augment']['rotations'] == [-3.0, 0.0, 3.0]
  assert rep['class_names'] == list(CLASSES)
  json.dumps(rep)  # Plain JSON data.


def test_summarize_rejects_bad_confusion_shape():
  bad = _fold(0, np.eye(4, dtype=int), np.eye(4, dtype=int))
  with pytest.raises(ValueError, match='confusion matrix has shape'):
    report.summarize([bad], _config(), dataset_name='x', class_names=CLASSES,
                     seconds=0.0)
  with pytest.raises(ValueError, match='no fold results'):
    report.summarize([], _config(), dataset_name='x', class_names=CLASSES,
                     seconds=0.0)


def test_write_report_files(tmp_path):
  rep = report.write_report(str(tmp_path), FOLDS, _config(),
                            dataset_name='synthetic', class_names=CLASSES,
                            seconds=3.0)
  on_disk = json.loads((tmp_path / 'report.json').read_text())
  assert on_disk == rep
  md = (tmp_path / 'report.md').read_text()
  assert '| CNN (baseline) | 60.00 ± 0.00 | 60.00 | 60.00 |' in md
  assert '| REL-GAN (MLP on f(e)) | 90.00 ± 14.14 | 100.00 | 80.00 |' in md
  assert '| REL-GAN f(e) | 25.00 |' in md
  assert '| untrained Ges (MLP on its f(e)) | not run |' in md
  assert "Stage 1: trained for each fold on the fold's training" in md
  image = Image.open(tmp_path / 'confusion_matrix.png')
  assert image.size[0] > 200 and image.size[1] > 100
  assert not list(tmp_path.glob('*.tmp'))


def test_markdown_names_a_pretrained_stage1():
  config = _config()
  config.protocol = ml_collections.ConfigDict(
      {'pretrained_checkpoint': 'runs/x/pretrain', 'freeze_pretrained': True})
  rep = report.summarize(FOLDS, config, dataset_name='synthetic',
                         class_names=CLASSES, seconds=1.0)
  assert 'Stage 1: pre-trained at runs/x/pretrain, frozen.' in report.markdown(
      rep, FOLDS)
  config.protocol.freeze_pretrained = False
  rep = report.summarize(FOLDS, config, dataset_name='synthetic',
                         class_names=CLASSES, seconds=1.0)
  assert 'pre-trained at runs/x/pretrain, fine-tuned for each fold' in (
      report.markdown(rep, FOLDS))


def test_grid_row_labels_carry_the_folds_measures_by_class():
  names = ('neutral', 'anger', 'sadness')
  assert reenactment.row_labels(names, [2, 0]) == ['sadness', 'neutral']
  # Rounded per cent; a class without a measure keeps its name alone.
  assert reenactment.row_labels(
      names, [0, 1, 2], [83.2, None, 60.79], [9.2, None, 20.4]) == [
          'neutral\nread 83%\ndrawn 9%', 'anger',
          'sadness\nread 61%\ndrawn 20%']
  assert reenactment.row_labels(names, [1], None, [1.0, 32.6, 2.0]) == [
      'anger\ndrawn 33%']


def test_reenactment_grid_layout(tmp_path):
  rng = np.random.default_rng(0)
  sources = rng.integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
  targets = rng.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
  generated = rng.integers(0, 255, (3, 4, 32, 32, 3), dtype=np.uint8)
  # The canvas: each 32x32 face enlarged 4x (128 pixels a side), 2-pixel
  # gaps (8 enlarged), the cells one gap further right than the sources.
  canvas, scale = reenactment.padded_grid_canvas(sources, targets, generated)
  assert scale == 4
  assert canvas.shape == (4 * (4 * 34 + 2), 4 * (5 * 34 + 4), 3)
  step, pad = 34 * 4, 2 * 4
  def block(y, x):
    return canvas[y:y + 128, x:x + 128]
  enlarge = lambda face: np.repeat(np.repeat(face, 4, 0), 4, 1)
  np.testing.assert_array_equal(block(pad, step + 2 * pad), enlarge(targets[0]))
  np.testing.assert_array_equal(block(3 * step + pad, pad),
                                enlarge(sources[2]))
  np.testing.assert_array_equal(block(3 * step + pad, 4 * step + 2 * pad),
                                enlarge(generated[2, 3]))
  assert (canvas[:pad] == 255).all()  # White above the targets.
  # The PNG shows the canvas pixel for pixel (no resampling), placed after
  # the label margins (0.9 in left, 0.6 in top at 100 dpi).
  path = str(tmp_path / 'grid.png')
  reenactment.plot_reenactment_grid(sources, targets, generated, path,
                               source_labels=['a', 'b', 'c'])
  image = np.asarray(Image.open(path).convert('RGB'))
  np.testing.assert_array_equal(
      image[60:60 + canvas.shape[0], 90:90 + canvas.shape[1]], canvas)
  # A title longer than a narrow grid is wide wraps, and the margin above
  # grows by one line's height (0.14 in) per line beyond two.
  narrow, _ = reenactment.padded_grid_canvas(sources, targets[:2],
                                             generated[:, :2])
  reenactment.plot_reenactment_grid(
      sources, targets[:2], generated[:, :2], path,
      title='a short first line\n' + 'words in a long second line ' * 4)
  image = np.asarray(Image.open(path).convert('RGB'))
  np.testing.assert_array_equal(
      image[74:74 + narrow.shape[0], 90:90 + narrow.shape[1]], narrow)
  with pytest.raises(ValueError, match='do not match'):
    reenactment.plot_reenactment_grid(sources[:2], targets, generated, path)


def test_change_cells_by_hand():
  """Each cell minus its column's mean over the rows, x3 about mid-grey."""
  x_bar = np.zeros((2, 2, 1, 1, 3), np.uint8)
  x_bar[:, 0, 0, 0] = [[100, 0, 60], [101, 255, 60]]  # Column 0 changes.
  x_bar[:, 1] = 77  # Column 1 is one face in both rows: no change.
  cells = reenactment.change_cells(x_bar)
  assert cells.dtype == np.uint8 and cells.shape == x_bar.shape
  # Column 0's means 100.5 / 127.5 / 60: 127.5 -/+ 3 * 0.5 = 126 / 129; the
  # green channel -/+ 382.5 is clipped to 0 / 255; the blue one is constant.
  np.testing.assert_array_equal(cells[:, 0, 0, 0],
                                [[126, 0, 128], [129, 255, 128]])
  assert (cells[:, 1] == 128).all()  # 127.5 rounds to even.
  np.testing.assert_array_equal(
      reenactment.change_cells(x_bar, gain=1.0)[:, 0, 0, 0, 0], [127, 128])
  with pytest.raises(ValueError, match='R >= 2'):
    reenactment.change_cells(x_bar[:1])


def test_disentanglement_summary_by_hand():
  rep = report.summarize(NEW_FOLDS, _config(), dataset_name='synthetic',
                         class_names=CLASSES, seconds=1.0)
  assert tuple(rep) == report.REPORT_KEYS
  assert rep['untrained_ges']['fold_accuracy'] == [20.0, 30.0]
  assert rep['untrained_ges']['mean'] == pytest.approx(25.0)
  # The old top-level leakage block keeps its three keys.
  assert rep['identity_leakage'] == {'relgan': 25.0, 'baseline': 70.0,
                                     'chance': 10.0}
  block = rep['disentanglement']
  leak = block['identity_leakage']
  assert leak['untrained_ges'] == {'per_fold': [90.0, 100.0], 'mean': 95.0,
                                   'std': pytest.approx(np.sqrt(50.0))}
  assert leak['relgan']['per_fold'] == [20.0, 30.0]
  ret = block['retrieval']
  assert ret['relgan']['same_expression']['mean'] == pytest.approx(65.0)
  assert ret['baseline']['same_person']['per_fold'] == [40.0, 50.0]
  assert ret['untrained_ges']['same_person']['mean'] == pytest.approx(75.0)
  assert ret['chance']['same_expression']['std'] == 0.0
  assert block['expression_transfer']['per_fold'] == [45.0, 55.0]
  assert block['baseline_real_accuracy']['mean'] == pytest.approx(60.0)
  assert block['identity_kept']['mean'] == pytest.approx(80.0)
  assert block['identity_source']['mean'] == pytest.approx(10.0)
  assert block['num_pairs']['per_fold'] == [12.0, 13.0]
  assert block['expression_strength']['per_fold'] == [30.0, 40.0]
  assert block['expression_match']['mean'] == pytest.approx(75.0)
  assert block['expression_match_chance']['mean'] == pytest.approx(
      100 / 3 + 0.5)
  rows = block['by_source_expression']
  assert list(rows) == list(CLASSES)
  assert rows['anger']['expression_transfer'] == {
      'per_fold': [90.0, None], 'mean': 90.0, 'std': 0.0}
  assert rows['happy']['expression_transfer']['per_fold'] == [40.0, 50.0]
  assert rows['happy']['expression_strength']['mean'] == pytest.approx(35.0)
  assert rows['surprise']['expression_strength']['per_fold'] == [-5.0, -5.0]
  assert rows['anger']['expression_match']['per_fold'] == [80.0, None]
  assert rows['happy']['expression_match']['mean'] == pytest.approx(65.0)
  json.dumps(rep)


def test_views_line_names_the_augmentation_in_use(tmp_path):
  config = _config()
  config.stage2 = ml_collections.ConfigDict({'mlp_augment_views': 8})
  config.augment = ml_collections.ConfigDict(
      {'five_crops': False, 'rotations': (-3.0, 0.0, 3.0), 'flip': True})
  report.write_report(str(tmp_path), NEW_FOLDS, config,
                      dataset_name='synthetic', class_names=CLASSES,
                      seconds=3.0)
  md = (tmp_path / 'report.md').read_text()
  assert 'centre crop and 8 augmented views of it (rotation, flip:' in md


def test_markdown_has_the_new_rows(tmp_path):
  config = _config()
  config.stage2 = ml_collections.ConfigDict({'mlp_augment_views': 8})
  report.write_report(str(tmp_path), NEW_FOLDS, config,
                      dataset_name='synthetic', class_names=CLASSES,
                      seconds=3.0)
  md = (tmp_path / 'report.md').read_text()
  assert ('| untrained Ges (MLP on its f(e)) | 25.00 ± 7.07 | 20.00 | 30.00 |'
          in md)
  assert '| untrained Ges f(e) | 95.00 |' in md  # Leakage table.
  assert ('centre crop and 8 augmented views of it (crop place, rotation, '
          'flip:') in md
  assert '## Disentanglement (%)' in md
  for row in (
      '| NN same expression (↑) | REL-GAN f(e) | 65.00 ± 7.07 | 60.00 | 70.00 |',
      '| NN same expression (↑) | CNN baseline penultimate | 55.00 ± 7.07 | '
      '50.00 | 60.00 |',
      '| NN same expression (↑) | untrained Ges f(e) | 35.00 ± 7.07 | 30.00 | '
      '40.00 |',
      '| NN same person (↓) | REL-GAN f(e) | 15.00 ± 7.07 | 10.00 | 20.00 |',
      '| NN same person (↓) | chance | 20.00 ± 0.00 | 20.00 | 20.00 |',
      '| identity leakage (↓) | untrained Ges f(e) | 95.00 ± 7.07 | 90.00 | '
      '100.00 |',
      '| expression transfer (↑) | x̄ read by the CNN baseline | 50.00 ± 7.07 '
      '| 45.00 | 55.00 |',
      '| expression transfer | real test images (baseline accuracy) | '
      '60.00 ± 7.07 | 55.00 | 65.00 |',
      "| identity kept (↑) | x̄ nearest to x_t's person | 80.00 ± 7.07 | "
      '75.00 | 85.00 |',
      "| identity source (↓) | x̄ nearest to x_s's person | 10.00 ± 7.07 | "
      '5.00 | 15.00 |',
      "| expression strength (↑) | x̄ against x_t's person's photos | "
      '35.00 ± 7.07 | 30.00 | 40.00 |',
      "| expression match (↑) | x̄'s change against the photos' changes | "
      '75.00 ± 7.07 | 70.00 | 80.00 |',
      "| expression match | the person's photos, half against half | "
      '83.00 ± 7.07 | 78.00 | 88.00 |',
      '| expression match | chance (1/K) | 33.83 ± 0.71 | 33.33 | 34.33 |'):
    assert row in md, row
  assert '(12, 13 pairs per fold)' in md
  assert "By x_s's expression (the rows of the reenactment grid)" in md
  for row in ('| anger | 90.00 ± 0.00 | 35.00 ± 0.00 | 80.00 ± 0.00 | '
              '90.00 ± 0.00 |',
              '| happy | 45.00 ± 7.07 | 35.00 ± 7.07 | 65.00 ± 7.07 | '
              '55.00 ± 7.07 |',
              '| surprise | 20.00 ± 0.00 | -5.00 ± 0.00 | 0.00 ± 0.00 | '
              '100.00 ± 0.00 |'):
    assert row in md, row


def test_results_from_before_the_measures_still_report():
  """A resumed run: fold 0 from an older version (no new keys), fold 1 new."""
  old = dict(FOLDS[0], identity_leakage=None)
  rep = report.summarize([old, NEW_FOLDS[1]], _config(),
                         dataset_name='synthetic', class_names=CLASSES,
                         seconds=1.0)
  assert rep['untrained_ges']['fold_accuracy'] == [None, 30.0]
  assert rep['untrained_ges']['mean'] == 30.0
  assert rep['untrained_ges']['std'] == 0.0
  block = rep['disentanglement']
  assert block['expression_transfer']['per_fold'] == [None, 55.0]
  # A fold from before expression_strength: None there, the mean of the rest.
  older = dict(NEW_FOLDS[0], reenactment={
      k: v for k, v in NEW_FOLDS[0]['reenactment'].items()
      if k != 'expression_strength'})
  strength = report.summarize(
      [older, NEW_FOLDS[1]], _config(), dataset_name='synthetic',
      class_names=CLASSES, seconds=1.0)['disentanglement'][
          'expression_strength']
  assert strength == {'per_fold': [None, 40.0], 'mean': 40.0, 'std': 0.0}
  assert block['retrieval']['relgan']['same_person']['mean'] == 20.0
  md = report.markdown(rep, [old, NEW_FOLDS[1]])
  assert '| untrained Ges (MLP on its f(e)) | 30.00 ± 0.00 | n/a | 30.00 |' in md
  # Only old folds: the new rows say so instead of failing.
  rep = report.summarize(FOLDS, _config(), dataset_name='synthetic',
                         class_names=CLASSES, seconds=1.0)
  md = report.markdown(rep, FOLDS)
  assert '| untrained Ges (MLP on its f(e)) | not run |' in md
  assert '| expression transfer (↑) | x̄ read by the CNN baseline | n/a |' in md
  assert '| untrained Ges f(e) | n/a |' in md
  assert "By x_s's expression" not in md  # No fold measured it.
  assert all(m['per_fold'] == [None, None] for row in rep['disentanglement'][
      'by_source_expression'].values() for m in row.values())


_DRAW_IN_A_USERS_SESSION = """
import sys
import matplotlib
matplotlib.use('svg')  # The user's choice (Colab: its inline backend).
import numpy as np
from relgan_jax import main, predict, reenact
from relgan_jax.evaluation import protocol, report
from relgan_jax.stage1 import reenactment, train
assert 'matplotlib.pyplot' not in sys.modules, 'imported pyplot'
assert 'matplotlib.figure' not in sys.modules, 'imported figure code'
x = np.zeros((2, 32, 32, 3), np.uint8)
reenactment.plot_reenactment_grid(x, x, np.zeros((2, 2, 32, 32, 3), np.uint8),
                                  sys.argv[1] + '/grid.png')
report.plot_confusion_matrix(np.eye(2), ['a', 'b'], sys.argv[1] + '/cm.png')
assert matplotlib.get_backend() == 'svg', matplotlib.get_backend()
assert 'matplotlib.pyplot' not in sys.modules, 'imported pyplot'
"""


def test_figures_leave_the_users_matplotlib_alone(tmp_path):
  """The package draws on Figures of its own: importing it or drawing with it
  neither switches the session's backend (which would silence a notebook's
  inline plots) nor imports pyplot; runs that draw nothing never import
  matplotlib's figure code at all."""
  out = subprocess.run([sys.executable, '-c', _DRAW_IN_A_USERS_SESSION,
                        str(tmp_path)], cwd=REPO, capture_output=True,
                       text=True, check=False,
                       env=dict(os.environ, PYTHONPATH=REPO))
  assert out.returncode == 0, out.stderr[-3000:]
  assert os.path.getsize(tmp_path / 'grid.png') > 0
  assert os.path.getsize(tmp_path / 'cm.png') > 0
