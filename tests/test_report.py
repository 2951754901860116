"""Tests for relgan_jax.report: the report's keys, values, table and figures."""

import json
import os

import ml_collections
import numpy as np
from PIL import Image
import pytest

from relgan_jax import report

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


def test_reenactment_grid_layout(tmp_path):
  rng = np.random.default_rng(0)
  sources = rng.integers(0, 255, (3, 32, 32, 3), dtype=np.uint8)
  targets = rng.integers(0, 255, (4, 32, 32, 3), dtype=np.uint8)
  generated = rng.integers(0, 255, (3, 4, 32, 32, 3), dtype=np.uint8)
  path = str(tmp_path / 'grid.png')
  report.plot_reenactment_grid(sources, targets, generated, path,
                               source_labels=['a', 'b', 'c'])
  assert os.path.getsize(path) > 0
  width, height = Image.open(path).size
  assert width > height  # 5 columns (margin + 4) by 4 rows (margin + 3).
  with pytest.raises(ValueError, match='do not match'):
    report.plot_reenactment_grid(sources[:2], targets, generated, path)
