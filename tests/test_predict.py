"""Tests for relgan_jax.evaluation.inference (Ges + MLP) and the predict command."""

import contextlib
import io
import json
import os
import shutil

import chex
import numpy as np
from PIL import Image
import pytest

import apps_workdir
from relgan_jax import predict
from relgan_jax.data import faces
from relgan_jax.data import input_pipeline
from relgan_jax.evaluation import inference
from relgan_jax.evaluation import run_files
from relgan_jax.evaluation import stage2


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  return apps_workdir.get(tmp_path_factory)


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
  return apps_workdir.photos(str(tmp_path_factory.getbasetemp() / 'photos'))


def _main(argv):
  out = io.StringIO()
  with contextlib.redirect_stdout(out):
    status = predict.main(argv)
  return status, out.getvalue()


def test_classifier_round_trip(run):
  saved = run_files.load_classifier(os.path.join(run.fold_dir, 'classifier'))
  chex.assert_trees_all_equal(saved.params, run.classifier.params)
  np.testing.assert_array_equal(saved.mean, run.classifier.mean)
  np.testing.assert_array_equal(saved.std, run.classifier.std)
  assert saved.module == run.classifier.module
  assert saved.class_names == run.dataset.manifest['expression_classes']
  prep = saved.preprocessing
  assert (prep['image_size'], prep['stored_size']) == (32, 37)
  assert prep['margin_ratio'] == pytest.approx(112 / 96)
  assert prep['dataset'] == 'synthetic'


def test_save_classifier_checks_classes(run, tmp_path):
  manifest = dict(run.dataset.manifest, expression_classes=['a', 'b'])
  with pytest.raises(ValueError, match='7 outputs but the manifest names 2'):
    run_files.save_classifier(str(tmp_path / 'c'), run.classifier,
                              config=run.config, manifest=manifest)


def test_probabilities_match_stage2_evaluation(run):
  """Stored faces through --no_align give exactly stage 2's evaluation: the
  same centre crop, f(e), standardiser and MLP."""
  model = inference.load_expression_model(run.path)
  assert model.folder == run.fold_dir
  idx = run.test_idx[:5]
  ges_fn = stage2.ges_encoder_fn(model.ges, model.ges_variables)
  features = stage2.extract_features(ges_fn, run.dataset, idx, run.config,
                                     batch_size=8)
  logits = run.classifier.logits(features.f)
  expected = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
  stored = [run.dataset[int(i)]['image'] for i in idx]
  finder = faces.FaceFinder(model.preprocessing, align=False)
  crops = [finder(face)[0].crop for face in stored]
  np.testing.assert_array_equal(crops, stored)  # 37 px stays 37 px.
  got = model.predict_faces(crops)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-6)
  eval_crops = next(iter(input_pipeline.eval_batches(
      run.dataset, idx, run.config, batch_size=5)))['image']
  np.testing.assert_array_equal(
      faces.model_inputs(np.stack(stored), model.preprocessing), eval_crops)


def test_predict_json_on_real_photos(run, photos, tmp_path):
  garbage = tmp_path / 'not_an_image.jpg'
  garbage.write_bytes(b'this is text')
  crops = tmp_path / 'crops'
  status, out = _main(['--workdir', run.path, '--json',
                       f'--save_crops={crops}', photos['grace_hopper'],
                       photos['coffee'], photos['astronaut'], str(garbage)])
  assert status == 0
  doc = json.loads(out)
  names = run.dataset.manifest['expression_classes']
  assert doc['model']['class_names'] == names
  assert doc['model']['folder'] == run.fold_dir
  grace, coffee, astronaut, bad = doc['images']
  assert [grace['path'], coffee['path']] == [photos['grace_hopper'],
                                             photos['coffee']]
  for entry in (grace, astronaut):
    assert entry['error'] is None and len(entry['faces']) == 1
    face = entry['faces'][0]
    assert list(face['probabilities']) == names
    assert sum(face['probabilities'].values()) == pytest.approx(1.0, abs=1e-6)
    assert face['expression'] == max(face['probabilities'],
                                     key=face['probabilities'].get)
    crop = np.asarray(Image.open(face['crop']))
    assert crop.shape == (37, 37, 3)
  # Grace Hopper's face: dlib's box is about (167, 144)-(362, 341).
  np.testing.assert_allclose(grace['faces'][0]['box'], [167, 144, 362, 341],
                             atol=15)
  assert coffee == {'path': photos['coffee'], 'error': predict.NO_FACE,
                    'faces': []}
  assert bad['faces'] == [] and bad['error'].startswith('unreadable')
  assert sorted(os.listdir(crops)) == ['astronaut_face0.png',
                                       'grace_hopper_face0.png']
  # A second run into the folder adds its crops beside the first run's.
  first = (crops / 'grace_hopper_face0.png').read_bytes()
  status, out = _main(['--workdir', run.path, '--json',
                       f'--save_crops={crops}', photos['grace_hopper']])
  assert status == 0
  (face,) = json.loads(out)['images'][0]['faces']
  assert face['crop'] == str(crops / 'grace_hopper_2_face0.png')
  assert sorted(os.listdir(crops)) == ['astronaut_face0.png',
                                       'grace_hopper_2_face0.png',
                                       'grace_hopper_face0.png']
  assert (crops / 'grace_hopper_face0.png').read_bytes() == first
  assert (crops / 'grace_hopper_2_face0.png').read_bytes() == first


def test_predict_table_reports_faceless_photo(run, photos):
  status, out = _main(['--workdir', run.path, photos['grace_hopper'],
                       photos['coffee']])
  assert status == 0
  lines = out.splitlines()
  assert lines[0].startswith(f'model: {run.fold_dir} (dataset synthetic, 7')
  header = lines[1].split()
  assert header[:4] == ['image', 'face', 'box', 'expression']
  assert header[4:] == run.dataset.manifest['expression_classes']
  grace = lines[3].split()
  assert grace[0] == 'grace_hopper.jpg' and grace[1] == '0'
  probs = [float(v) for v in grace[4:]]
  assert len(probs) == 7 and sum(probs) == pytest.approx(1.0, abs=5e-3)
  assert lines[4].split(None, 2) == ['coffee.png', '-', predict.NO_FACE]


def test_finds_the_first_finished_fold(run, tmp_path):
  workdir = tmp_path / 'run'
  workdir.mkdir()
  (workdir / 'fold_0').mkdir()  # Unfinished: nothing in it.
  shutil.copytree(os.path.join(run.fold_dir, 'encoder'),
                  workdir / 'fold_3' / 'encoder')
  shutil.copytree(os.path.join(run.fold_dir, 'classifier'),
                  workdir / 'fold_3' / 'classifier')
  parts = ('encoder', 'classifier')
  assert run_files.find_fold_dir(str(workdir), parts) == str(
      workdir / 'fold_3')
  assert run_files.find_fold_dir(str(workdir / 'fold_3'), parts) == str(
      workdir / 'fold_3')
  with pytest.raises(FileNotFoundError, match='fold_0 has no encoder, '
                     'classifier'):
    run_files.find_fold_dir(str(workdir), parts, fold=0)
  with pytest.raises(FileNotFoundError, match='fold_5 does not exist'):
    run_files.find_fold_dir(str(workdir), parts, fold=5)
  shutil.rmtree(workdir / 'fold_3' / 'classifier')
  with pytest.raises(FileNotFoundError, match=r'none of its folds \[0, 3\]'):
    inference.load_expression_model(str(workdir))


def test_every_face_of_a_group_photo(run, photos, tmp_path):
  grace = np.asarray(Image.open(photos['grace_hopper']).convert('RGB'))
  astronaut = Image.open(photos['astronaut']).resize((700, 700))
  group = np.zeros((700, 512 + 700, 3), np.uint8)
  group[:600, :512] = grace
  group[:, 512:] = np.asarray(astronaut)
  path = tmp_path / 'group.png'
  Image.fromarray(group).save(path)
  status, out = _main(['--workdir', run.path, '--json', str(path)])
  assert status == 0
  found = json.loads(out)['images'][0]['faces']
  assert len(found) == 2
  # Largest first: Grace Hopper's face, then the astronaut's (moved right).
  np.testing.assert_allclose(found[0]['box'], [167, 144, 362, 341], atol=15)
  np.testing.assert_allclose(found[1]['box'], [752, 100, 890, 239], atol=15)
  for face in found:
    assert sum(face['probabilities'].values()) == pytest.approx(1.0, abs=1e-6)
