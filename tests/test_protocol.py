"""Tests for relgan_jax.evaluation.protocol: the whole run on a tiny synthetic set.

One end-to-end run (2 folds, tiny config) is shared by the tests of this
module; spies record the record indices actually handed to stage 1, the MLP
and the baseline.
"""

import json
import os

import chex
import numpy as np
from PIL import Image
import pytest

from configs import tiny
from relgan_jax.data import loading
from relgan_jax.data import records
from relgan_jax.evaluation import baseline
from relgan_jax.evaluation import protocol
from relgan_jax.evaluation import report
from relgan_jax.evaluation import run_files
from relgan_jax.evaluation import stage2
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import reenactment
from relgan_jax.stage1 import train


def _config(data_dir):
  config = tiny.get_config()
  config.data.dir = data_dir
  config.data.synthetic_identities = 6
  config.train.num_steps = 2
  config.train.checkpoint_every = 100
  config.train.image_summary_every = 0
  config.stage2.baseline_epochs = 1
  return config


def _small_generate(real):
  """synthetic.generate with fewer images per person (keeps the test fast)."""
  calls = []

  def generate(out_dir, **kwargs):
    calls.append(kwargs)
    return real(out_dir, **kwargs, neutral_images=2, images_per_intensity=1,
                workers=1)

  generate.calls = calls
  return generate


@pytest.fixture(scope='module')
def finished_run(tmp_path_factory):
  """Runs the protocol once, recording what each training step was given."""
  from relgan_jax.data import synthetic_set as synthetic
  mp = pytest.MonkeyPatch()
  root = tmp_path_factory.mktemp('protocol')
  workdir, data_dir = str(root / 'run'), str(root / 'data')
  config = _config(data_dir)
  seen = {'gan': [], 'mlp': [], 'baseline': []}
  real_gan, real_mlp = train.train_gan, stage2.train_mlp
  real_baseline = baseline.train_baseline

  def spy_gan(config, workdir, dataset, train_indices, **kwargs):
    seen['gan'].append((workdir, np.array(train_indices)))
    return real_gan(config, workdir, dataset, train_indices, **kwargs)

  def spy_mlp(train_features, *args, **kwargs):
    seen['mlp'].append(np.array(train_features.index))
    return real_mlp(train_features, *args, **kwargs)

  def spy_baseline(config, dataset, train_indices, *args, **kwargs):
    seen['baseline'].append(np.array(train_indices))
    return real_baseline(config, dataset, train_indices, *args, **kwargs)

  generate = _small_generate(synthetic.generate)
  mp.setattr(synthetic, 'generate', generate)
  mp.setattr(train, 'train_gan', spy_gan)
  mp.setattr(stage2, 'train_mlp', spy_mlp)
  mp.setattr(baseline, 'train_baseline', spy_baseline)
  try:
    rep = protocol.run(config, workdir)
  finally:
    mp.undo()
  return dict(config=config, workdir=workdir, report=rep, seen=seen,
              dataset=records.PreparedDataset(data_dir),
              generate_calls=generate.calls)


def test_generates_missing_data_with_config_folds(finished_run):
  assert finished_run['generate_calls'] == [
      dict(num_identities=6, first_identity=0, num_folds=2, seed=0, size=37)]


def test_no_test_subject_in_any_training_data(finished_run):
  dataset, seen = finished_run['dataset'], finished_run['seen']
  subjects = np.asarray(dataset.subjects)
  assert len(seen['gan']) == len(seen['mlp']) == len(seen['baseline']) == 2
  for fold in (0, 1):
    test_subjects = set(subjects[np.asarray(dataset.folds) == fold])
    assert test_subjects
    gan_dir, gan_idx = seen['gan'][fold]
    assert gan_dir.endswith(os.path.join(f'fold_{fold}', 'stage1'))
    for used in (gan_idx, seen['mlp'][fold], seen['baseline'][fold]):
      assert len(used) and not set(subjects[used]) & test_subjects
    # Everything that is not the test fold is trained on.
    assert sorted(seen['mlp'][fold]) == sorted(gan_idx)
    result = json.load(open(os.path.join(finished_run['workdir'],
                                         f'fold_{fold}', 'result.json')))
    assert set(result['test_subjects']) == test_subjects


def test_report_has_every_key_with_sane_values(finished_run):
  workdir = finished_run['workdir']
  rep = json.load(open(os.path.join(workdir, 'report.json')))
  assert rep == finished_run['report']
  assert tuple(rep) == report.REPORT_KEYS
  assert rep['dataset'] == 'synthetic' and rep['num_folds'] == 2
  classes = finished_run['dataset'].manifest['expression_classes']
  assert rep['class_names'] == classes
  for method in ('relgan', 'baseline'):
    accs = rep[method]['fold_accuracy']
    assert len(accs) == 2 and all(0.0 <= a <= 100.0 for a in accs)
    assert rep[method]['mean'] == pytest.approx(np.mean(accs))
    assert 0.0 <= rep[method]['std'] <= 100.0
  cm = np.asarray(rep['confusion_matrix'])
  assert cm.shape == (len(classes), len(classes))
  assert cm.sum() == len(finished_run['dataset'])  # Every record tested once.
  assert (100.0 * np.trace(cm) / cm.sum()) == pytest.approx(
      np.average(rep['relgan']['fold_accuracy'],
                 weights=[np.sum(np.asarray(finished_run['dataset'].folds)
                                 == k) for k in (0, 1)]))
  leak = rep['identity_leakage']
  assert set(leak) == {'relgan', 'baseline', 'chance'}
  assert all(0.0 <= v <= 100.0 for v in leak.values())
  assert leak['chance'] == pytest.approx(100.0 / 3)  # 3 training people.
  assert rep['config']['model']['image_size'] == 32
  assert rep['seconds'] > 0
  md = open(os.path.join(workdir, 'report.md')).read()
  assert 'CNN (baseline)' in md and 'REL-GAN' in md and 'fold 1' in md
  for png in ('confusion_matrix.png', 'reenactment_grid.png',
              'reenactment_changes.png'):
    assert Image.open(os.path.join(workdir, png)).size[0] > 100
  # The change panel has the grid's layout, so its width (the titles'
  # lengths differ, and with them the margin above).
  assert (Image.open(os.path.join(workdir, 'reenactment_changes.png')).size[0]
          == Image.open(os.path.join(workdir, 'reenactment_grid.png')).size[0])


def test_encoder_export_restores_alone(finished_run):
  ges, params = run_files.load_encoder(
      os.path.join(finished_run['workdir'], 'fold_0', 'encoder'))
  assert ges.f_e_dim == 30 and 'trunk' in params and 'head' in params


def test_fold_saves_a_loadable_classifier(finished_run):
  from relgan_jax.evaluation import inference  # pylint: disable=g-import-not-at-top
  model = inference.load_expression_model(finished_run['workdir'], fold=0)
  assert (list(model.class_names)
          == finished_run['dataset'].manifest['expression_classes'])


def test_resumed_run_skips_finished_folds(finished_run, monkeypatch):
  workdir = finished_run['workdir']
  fold0 = os.path.join(workdir, 'fold_0', 'result.json')
  fold1 = os.path.join(workdir, 'fold_1', 'result.json')
  mtime0 = os.stat(fold0).st_mtime_ns
  stage1_dirs = []
  real_gan = train.train_gan

  def counting_gan(config, workdir, *args, **kwargs):
    stage1_dirs.append(workdir)
    return real_gan(config, workdir, *args, **kwargs)

  canned = json.load(open(fold1))
  monkeypatch.setattr(train, 'train_gan', counting_gan)
  # Stage 2 of the redone fold is replaced by its earlier result (speed).
  monkeypatch.setattr(stage2, 'run_fold', lambda *a, **k: {
      key: canned[key] for key in ('relgan', 'baseline', 'identity_leakage')})
  config = finished_run['config']

  rep = protocol.run(config, workdir)  # Both folds finished: nothing redone.
  assert stage1_dirs == []
  assert rep['relgan'] == finished_run['report']['relgan']

  os.remove(fold1)  # As if the run had been killed during fold 1.
  rep = protocol.run(config, workdir)
  assert stage1_dirs == [os.path.join(workdir, 'fold_1', 'stage1')]
  assert os.stat(fold0).st_mtime_ns == mtime0
  assert os.path.exists(fold1)
  assert rep['relgan']['fold_accuracy'] == \
      finished_run['report']['relgan']['fold_accuracy']


def test_missing_data_error_names_path_and_command(tmp_path):
  config = _config(str(tmp_path / 'nothing'))
  config.data.name = 'bu3dfe'
  with pytest.raises(FileNotFoundError, match='manifest.json') as err:
    loading.load_dataset(config, str(tmp_path))
  assert 'data_prep.prepare --dataset=bu3dfe' in str(err.value)


def test_fold_count_mismatch_is_an_error(finished_run):
  config = _config(finished_run['dataset'].data_dir)
  config.protocol.num_folds = 5
  with pytest.raises(ValueError, match='num_folds'):
    loading.load_dataset(config, finished_run['workdir'])
  config.protocol.num_folds = 2
  config.protocol.folds = (2,)
  with pytest.raises(ValueError, match='protocol.folds'):
    protocol.folds_to_run(config, finished_run['dataset'])


def test_pick_grid_records():
  expressions = np.array([0, 1, 1, 2, 0, 2, 1, 0, 2])
  identities = np.array([5, 5, 6, 6, 6, 7, 7, 7, 5])
  intensities = np.array([0, 1, 3, 3, 0, 1, 3, 0, 2])
  sources, targets = reenactment.pick_grid_records(
      expressions, identities, ['neutral', 'happy', 'sad'],
      intensities=intensities, num_targets=3)
  assert [expressions[s] for s in sources] == [0, 1, 2]
  # Strongest expressions: happy at intensity 3 (positions 2, 6), sad at 3.
  assert sources[1] in (2, 6) and sources[2] == 3
  assert len(targets) == 3 and len({identities[t] for t in targets}) == 3
  assert all(expressions[t] == 0 for t in targets)  # Neutral faces.


def test_select_records_by_intensity():
  class Fake:
    intensities = np.array([0, 1, 2, 3, -1, 2])

  config = _config('')
  idx = np.arange(6)
  np.testing.assert_array_equal(loading.select_records(Fake, idx, config),
                                idx)  # min_intensity 0: everything.
  config.data.min_intensity = 2
  np.testing.assert_array_equal(
      loading.select_records(Fake, idx[::-1], config), [5, 4, 3, 2, 0])


def test_pretraining_set_is_trained_once_and_used_frozen(tmp_path):
  """data.synthetic_pretrain_identities: stage 1 runs once, on people the
  evaluation set does not have, and every fold uses that Ges frozen."""
  from relgan_jax.data import synthetic_set as synthetic
  workdir, data_dir = str(tmp_path / 'run'), str(tmp_path / 'data')
  config = _config(data_dir)
  config.data.synthetic_pretrain_identities = 3
  config.data.min_intensity = 2
  config.protocol.freeze_pretrained = True
  config.stage2.run_baseline = False
  gan_calls = []
  real_gan = train.train_gan

  def spy_gan(config, workdir, dataset, train_indices, **kwargs):
    gan_calls.append((workdir, dataset.data_dir, np.array(train_indices)))
    return real_gan(config, workdir, dataset, train_indices, **kwargs)

  generate = _small_generate(synthetic.generate)
  with pytest.MonkeyPatch.context() as mp:
    mp.setattr(synthetic, 'generate', generate)
    mp.setattr(train, 'train_gan', spy_gan)
    rep = protocol.run(config, workdir)

  assert generate.calls == [
      dict(num_identities=6, first_identity=0, num_folds=2, seed=0, size=37),
      dict(num_identities=3, first_identity=6, num_folds=2, seed=0, size=37)]
  pre_dir = data_dir + '_pretrain'
  pre = records.PreparedDataset(pre_dir)
  evaluated = records.PreparedDataset(data_dir)
  assert not set(pre.subjects) & set(evaluated.subjects)
  # One stage 1, on the pre-training set; none per fold.
  assert len(gan_calls) == 1
  gan_dir, gan_data, gan_idx = gan_calls[0]
  assert (gan_dir, gan_data) == (os.path.join(workdir, 'pretrain'), pre_dir)
  np.testing.assert_array_equal(  # min_intensity applies here too.
      gan_idx, loading.select_records(pre, np.arange(len(pre)), config))
  assert 0 < len(gan_idx) < len(pre)
  pretrained, _ = checkpointing.load_state_tree(gan_dir)
  for fold in (0, 1):
    assert not os.path.exists(os.path.join(workdir, f'fold_{fold}', 'stage1'))
    _, variables = run_files.load_encoder(
        os.path.join(workdir, f'fold_{fold}', 'encoder'), return_variables=True)
    chex.assert_trees_all_equal(variables['params'],
                                pretrained['g_params']['Ges'])
  assert len(rep['relgan']['fold_accuracy']) == 2
  # The report's config names the checkpoint every fold used.
  assert rep['config']['protocol']['pretrained_checkpoint'] == gan_dir

  # Run again, every fold finished: no training, and the report still names
  # the pre-trained stage 1.
  with pytest.MonkeyPatch.context() as mp:
    mp.setattr(train, 'train_gan', spy_gan)
    again = protocol.run(config, workdir)
  assert len(gan_calls) == 1
  assert again['config']['protocol']['pretrained_checkpoint'] == gan_dir
  assert again['relgan'] == rep['relgan']

  # A pre-training set holding evaluated people is refused.
  config.protocol.pretrain_data_dir = data_dir
  config.data.synthetic_pretrain_identities = 0
  with pytest.raises(ValueError, match='holds 6 subjects of the evaluation'):
    protocol.pretrain(config, str(tmp_path / 'other'), evaluated)
