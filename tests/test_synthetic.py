"""Tests for the built-in synthetic face set (relgan_jax.data.synthetic_set, the
command line data_prep.synthetic)."""

import collections
import os
import subprocess
import sys

import numpy as np
import pytest

from relgan_jax.data import folds
from relgan_jax.data import records
from relgan_jax.data import synthetic_drawing
from relgan_jax.data import synthetic_people
from relgan_jax.data import synthetic_set as synthetic

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope='module')
def small_set(tmp_path_factory):
  out = str(tmp_path_factory.mktemp('synthetic'))
  manifest = synthetic.generate(out, num_identities=5, seed=3, size=40,
                                num_folds=5, neutral_images=2,
                                images_per_intensity=1, workers=1)
  return out, manifest


def test_manifest_and_counts(small_set):
  out, manifest = small_set
  n_classes = len(synthetic.EXPRESSION_CLASSES)
  # Per person: 2 neutral + 6 expressions x 3 intensities x 1 copy.
  assert manifest['num_records'] == 5 * (2 + (n_classes - 1) * 3)
  assert manifest['expression_classes'] == list(synthetic.EXPRESSION_CLASSES)
  assert manifest['identities'] == [synthetic.subject_id(i) for i in range(5)]
  assert manifest['num_folds'] == 5
  assert sorted(manifest['folds'].values()) == [0, 1, 2, 3, 4]
  assert manifest['stored_size'] == [40, 40]
  assert manifest['prep']['seed'] == 3
  ds = records.PreparedDataset(out)
  assert ds[0]['image'].shape == (40, 40, 3)
  pairs = collections.Counter(zip(ds.identities, ds.expressions))
  # Every (person, expression) has >= 2 images, so x_t != x_tg is possible.
  assert len(pairs) == 5 * n_classes and min(pairs.values()) >= 2
  neutral = ds.expressions == synthetic.NEUTRAL
  assert set(ds.intensities[neutral]) == {0}
  assert set(ds.intensities[~neutral]) == {1, 2, 3}
  for fold in range(5):
    train, test = folds.split_indices(ds, fold)
    assert not set(ds.identities[train]) & set(ds.identities[test])


def test_render_is_deterministic_and_matches_records(small_set):
  out, _ = small_set
  ds = records.PreparedDataset(out)
  i = 7
  rec = ds[i]
  again = synthetic.render_image(3, rec['identity'], rec['expression'],
                                 int(ds.intensities[i]),
                                 int(rec['source_path'][-5]), size=40)
  np.testing.assert_array_equal(rec['image'], again)


def test_identity_is_the_stronger_nuisance():
  """Without jitter, changing the person moves pixels more than the expression."""
  size = 64
  expr_diff, id_diff = [], []
  for a in range(4):
    b = a + 4
    neutral_a = synthetic.render_image(0, a, synthetic.NEUTRAL, 0, 0, size,
                                       jitter=False).astype(float)
    neutral_b = synthetic.render_image(0, b, synthetic.NEUTRAL, 0, 0, size,
                                       jitter=False).astype(float)
    id_diff.append(np.abs(neutral_a - neutral_b).mean())
    for e in range(1, len(synthetic.EXPRESSION_CLASSES)):
      face = synthetic.render_image(0, a, e, 3, 0, size, jitter=False)
      d = np.abs(face.astype(float) - neutral_a)
      assert d.mean() > 0.2, synthetic.EXPRESSION_CLASSES[e]  # Visible change.
      expr_diff.append(d.mean())
  assert max(expr_diff) < min(id_diff)


def test_expressions_differ_from_each_other():
  size = 48
  faces = [synthetic.render_image(0, 1, e, 3, 0, size, jitter=False)
           for e in range(len(synthetic.EXPRESSION_CLASSES))]
  for i in range(len(faces)):
    for j in range(i):
      assert np.abs(faces[i].astype(int) - faces[j]).mean() > 0.2


def test_first_identity_gives_a_disjoint_population(small_set, tmp_path):
  out, _ = small_set
  manifest = synthetic.generate(str(tmp_path), num_identities=2, seed=3,
                                size=40, num_folds=2, neutral_images=2,
                                images_per_intensity=1, workers=1,
                                first_identity=5)
  # People 5 and 6 of seed 3: nobody of the 0..4 set, labels still 0..1.
  assert manifest['identities'] == ['syn0005', 'syn0006']
  assert manifest['prep']['first_identity'] == 5
  assert not set(manifest['identities']) & set(
      records.PreparedDataset(out).manifest['identities'])
  ds = records.PreparedDataset(str(tmp_path))
  assert sorted(set(ds.identities)) == [0, 1]
  i = int(np.flatnonzero(ds.identities == 1)[0])
  rec = ds[i]
  np.testing.assert_array_equal(rec['image'], synthetic.render_image(
      3, 6, rec['expression'], int(ds.intensities[i]),
      int(rec['source_path'][-5]), size=40))
  with pytest.raises(ValueError, match='first_identity'):
    synthetic.generate(str(tmp_path / 'bad'), first_identity=-1)


def test_contact_sheet(tmp_path):
  path = str(tmp_path / 'sheet.png')
  sheet = synthetic.contact_sheet(path, num_identities=2, size=32)
  assert os.path.exists(path)
  assert sheet.shape == (16 + 2 * 32, 7 * 32, 3)


def test_bad_arguments(tmp_path):
  with pytest.raises(ValueError, match='num_identities'):
    synthetic.generate(str(tmp_path), num_identities=1)
  with pytest.raises(ValueError, match='neutral_images'):
    synthetic.generate(str(tmp_path), num_identities=2, neutral_images=1)


def test_command_line_with_workers(tmp_path):
  out = tmp_path / 'cli'
  result = subprocess.run(
      [sys.executable, '-m', 'data_prep.synthetic', f'--out_dir={out}',
       '--num_identities=3', '--size=24', '--num_folds=3', '--workers=2',
       '--neutral_images=2', '--images_per_intensity=1',
       f'--contact_sheet={tmp_path / "sheet.png"}'],
      cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
  assert result.returncode == 0, result.stderr
  assert 'wrote 60 images of 3 identities' in result.stdout
  ds = records.PreparedDataset(str(out))
  assert len(ds) == 60 and ds.manifest['num_folds'] == 3
  # Worker processes render exactly what the in-process path renders.
  np.testing.assert_array_equal(
      ds[25]['image'],
      synthetic.render_image(0, 1, int(ds.expressions[25]),
                             int(ds.intensities[25]), 0, 24))
  assert (tmp_path / 'sheet.png').exists()


def test_load_dataset_generates_the_synthetic_set_only_when_allowed(tmp_path):
  from configs import tiny  # pylint: disable=import-outside-toplevel
  from relgan_jax.data import loading  # pylint: disable=import-outside-toplevel
  config = tiny.get_config()
  config.data.dir = str(tmp_path / 'gen')
  config.data.synthetic_identities = 2
  config.data.generate_if_missing = False
  with pytest.raises(FileNotFoundError,
                     match='python -m data_prep.synthetic --out_dir='):
    loading.load_dataset(config, str(tmp_path / 'run'))
  assert not (tmp_path / 'gen').exists()
  config.data.generate_if_missing = True
  ds = loading.load_dataset(config, str(tmp_path / 'run'))
  assert ds.data_dir == config.data.dir
  side = round(config.model.image_size * config.augment.margin_ratio)
  assert ds[0]['image'].shape == (side, side, 3)
  assert ds.manifest['num_folds'] == config.protocol.num_folds
  assert len(set(ds.identities)) == 2
  assert synthetic_people.EXPRESSION_CLASSES == tuple(ds.expression_classes)


def test_a_generated_set_made_with_other_settings_is_refused(tmp_path):
  """A run uses the set in config.data.dir only if it is the one the config
  asks for; config.seed (training) does not change the faces."""
  from configs import tiny  # pylint: disable=import-outside-toplevel
  from relgan_jax import cli  # pylint: disable=import-outside-toplevel
  from relgan_jax.data import loading  # pylint: disable=import-outside-toplevel
  from relgan_jax.evaluation import protocol  # pylint: disable=import-outside-toplevel

  def config_of(**fields):
    config = tiny.get_config()
    config.data.dir = str(tmp_path / 'set')
    config.data.generate_if_missing = True
    config.data.synthetic_identities = 2
    config.data.synthetic_pretrain_identities = 2
    config.seed = 7  # The training's; the faces come from synthetic_seed.
    for name, value in fields.items():
      section, field = name.split('__')
      config[section][field] = value
    return config

  workdir = str(tmp_path / 'run')
  dataset = loading.load_dataset(config_of(), workdir)  # Generates it.
  assert dataset.manifest['prep']['seed'] == 0
  pre_dir = str(tmp_path / 'set_pretrain')
  pre = protocol.load_pretrain_dataset(config_of(), pre_dir)
  assert pre.manifest['prep']['first_identity'] == 2
  # The same settings, another training seed: the same sets.
  assert len(loading.load_dataset(config_of(data__synthetic_seed=0),
                                  workdir)) == len(dataset)
  for fields, message in (
      (dict(data__synthetic_seed=1),
       r'seed 0, the config asks for 1 \(data.synthetic_seed\)'),
      (dict(data__synthetic_identities=3),
       r'num_identities 2, the config asks for 3 '
       r'\(data.synthetic_identities\)'),
      (dict(model__image_size=64),
       r'size \d+, the config asks for \d+ \(model.image_size 64 \* '
       r'augment.margin_ratio')):
    with pytest.raises(cli.ConfigError, match=message) as e:
      loading.load_dataset(config_of(**fields), workdir)
    assert str(tmp_path / 'set') in str(e.value)
    assert 'point --config.data.dir at a new folder' in str(e.value)
  with pytest.raises(cli.ConfigError,
                     match=r'num_identities 2, the config asks for 4 '
                     r'\(data.synthetic_pretrain_identities\)'):
    protocol.load_pretrain_dataset(
        config_of(data__synthetic_pretrain_identities=4), pre_dir)
  # People 3.. would follow 3 evaluated ones, not 2.
  with pytest.raises(cli.ConfigError, match='first_identity 2, the config '
                     'asks for 3'):
    protocol.load_pretrain_dataset(
        config_of(data__synthetic_identities=3), pre_dir)
  # A set the config does not generate is the user's to choose.
  mine = config_of(data__synthetic_seed=1, data__generate_if_missing=False)
  assert len(loading.load_dataset(mine, workdir)) == len(dataset)


def test_faces_are_eye_aligned():
  """The drawn eye centres land on relgan_jax.data.align's template (DESIGN §10),
  up to the residual misalignment of about a pixel."""
  tx, ty = synthetic_drawing.align.DEFAULT_EYE_TEMPLATE
  for identity in range(5):
    idn = synthetic._identity(0, identity)  # pylint: disable=protected-access
    eyes = np.array([[0.5 - idn['eye_sep'], synthetic_drawing.EYE_Y],
                     [0.5 + idn['eye_sep'], synthetic_drawing.EYE_Y]])
    scale, shift = synthetic_drawing.eye_placement(idn)
    canvas = synthetic_drawing._Canvas(100, 0.0, scale, shift, idn['background'])  # pylint: disable=protected-access
    np.testing.assert_allclose(np.reshape(canvas.tf(eyes), (2, 2)),
                               [[100 * tx, 100 * ty], [100 * (1 - tx), 100 * ty]],
                               atol=1e-9)
    # Worst residual: every eye within ~1.5 % of the side (1.7 px of 112).
    r = synthetic_drawing.RESIDUAL
    for sign in (-1, 1):
      kw = dict(yaw=sign * r['yaw'], rotation=sign * r['rotation'],
                rescale=1 + sign * r['scale'],
                residual_shift=(sign * r['shift'], sign * r['shift']))
      scale, shift = synthetic_drawing.eye_placement(idn, **kw)
      canvas = synthetic_drawing._Canvas(  # pylint: disable=protected-access
          100, kw['rotation'], scale, shift, idn['background'])
      moved = eyes + [[kw['yaw'], 0], [kw['yaw'], 0]]
      placed = np.reshape(canvas.tf(moved), (2, 2)) / 100
      assert np.abs(placed - [[tx, ty], [1 - tx, ty]]).max() < 0.016


def test_copies_of_a_face_differ_by_about_a_pixel():
  """Two images of one person and expression are nearly the same picture
  (one sitting, aligned): their difference is far below a person change."""
  size = 64
  a = synthetic.render_image(0, 2, 4, 3, 0, size).astype(float)
  b = synthetic.render_image(0, 2, 4, 3, 1, size).astype(float)
  other = synthetic.render_image(0, 3, 4, 3, 0, size).astype(float)
  assert np.abs(a - b).mean() < 0.4 * np.abs(a - other).mean()
