"""Tests for relgan_jax.evaluation.inference's G loading and the reenact command."""

import contextlib
import glob
import io
import json
import os
import shutil
import sys

import jax
import numpy as np
from PIL import Image
import pytest

import apps_workdir
from relgan_jax import predict
from relgan_jax import reenact
from relgan_jax.data import faces
from relgan_jax.data import input_pipeline
from relgan_jax.evaluation import inference


@pytest.fixture(scope='module')
def run(tmp_path_factory):
  return apps_workdir.get(tmp_path_factory)


@pytest.fixture(scope='module')
def photos(tmp_path_factory):
  return apps_workdir.photos(str(tmp_path_factory.getbasetemp() / 'photos'))


def _main(argv):
  out, err = io.StringIO(), io.StringIO()
  with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    status = reenact.main(argv)
  return status, out.getvalue(), err.getvalue()


def test_cell_r_c_is_g_of_source_r_and_target_c(run):
  reenactor = inference.load_reenactor(run.path)
  assert reenactor.folder == run.fold_dir
  assert reenactor.preprocessing['stored_size'] == 37
  batch = next(iter(input_pipeline.eval_batches(
      run.dataset, run.test_idx[:5], run.config, batch_size=5)))
  x_s, x_t = batch['image'][:2], batch['image'][2:]
  grid = reenactor.reenact(x_s, x_t)
  assert grid.shape == (2, 3, 32, 32, 3) and grid.dtype == np.uint8
  pairs = [(r, c) for r in range(2) for c in range(3)]
  x_bar = jax.jit(reenactor.generator.apply)(  # G(x_s, x_t) of each pair.
      run.g_variables, input_pipeline.normalize(x_s[[r for r, _ in pairs]]),
      input_pipeline.normalize(x_t[[c for _, c in pairs]]))
  expected = np.clip(np.round((np.asarray(x_bar) + 1) * 127.5), 0, 255)
  for k, (r, c) in enumerate(pairs):
    np.testing.assert_allclose(grid[r, c], expected[k], atol=1)


def test_single_pair_of_real_photos(run, photos, tmp_path):
  out = tmp_path / 'out' / 'hopper_as_astronaut.png'
  status, stdout, stderr = _main([
      f'--workdir={run.path}', f'--source={photos["grace_hopper"]}',
      f'--target={photos["astronaut"]}', f'--out={out}'])
  assert status == 0, stderr
  assert stdout.startswith(f'wrote {out}: 1 source(s) x 1 target(s)')
  image = np.asarray(Image.open(out))
  assert image.shape == (32, 32, 3) and image.dtype == np.uint8


def test_folders_make_a_grid_and_report_faceless_photos(run, photos,
                                                        tmp_path):
  sources, targets = tmp_path / 'sources', tmp_path / 'targets'
  sources.mkdir()
  targets.mkdir()
  for name in ('grace_hopper', 'coffee', 'astronaut'):
    shutil.copy(photos[name], sources)
  shutil.copy(photos['astronaut'], targets)
  (sources / 'notes.txt').write_text('not an image')  # Not listed.
  out = tmp_path / 'grid.png'
  status, stdout, stderr = _main([
      '--workdir', run.path, '--source', str(sources), '--target',
      str(targets), '--out', str(out)])
  assert status == 0, stderr
  assert f'left out {sources / "coffee.png"}: no face found' in stderr
  assert '2 source(s) x 1 target(s)' in stdout
  grid = np.asarray(Image.open(out))
  assert grid.ndim == 3 and grid.shape[0] > 64 and grid.shape[1] > 64


def test_no_usable_face_fails_with_the_reason(run, photos, tmp_path):
  status, _, stderr = _main([
      '--workdir', run.path, '--source', photos['coffee'], '--target',
      photos['astronaut'], '--out', str(tmp_path / 'x.png')])
  assert status == 1
  assert 'No usable source face' in stderr and 'no face found' in stderr
  assert not (tmp_path / 'x.png').exists()


def test_aligned_crops_and_a_fold_without_classifier(run, tmp_path):
  """--no_align on stored faces; without classifier.json the preprocessing
  comes from the run's prepared data (workdir/data/manifest.json)."""
  workdir = tmp_path / 'run'
  shutil.copytree(os.path.join(run.fold_dir, 'stage1'),
                  workdir / 'fold_1' / 'stage1')
  shutil.copytree(os.path.join(run.path, 'data'), workdir / 'data')
  reenactor = inference.load_reenactor(str(workdir))
  assert reenactor.folder == str(workdir / 'fold_1')
  assert reenactor.preprocessing['stored_size'] == 37
  assert reenactor.preprocessing['margin_ratio'] == pytest.approx(112 / 96)
  face = tmp_path / 'face.png'
  Image.fromarray(run.dataset[int(run.test_idx[0])]['image']).save(face)
  out = tmp_path / 'same.png'
  status, _, stderr = _main([f'--workdir={workdir}', f'--source={face}',
                             f'--target={face}', f'--out={out}', '--grid',
                             '--no_align'])
  assert status == 0, stderr
  assert np.asarray(Image.open(out)).shape[0] > 32  # The labelled grid.
  (tmp_path / 'empty').mkdir()
  with pytest.raises(FileNotFoundError, match='No trained stage1 in .*empty: '
                     'it has no fold_k folders'):
    inference.load_reenactor(str(tmp_path / 'empty'))


def test_a_checkpoint_from_before_gde_width_reenacts_the_same(run, tmp_path):
  """A stage-1 checkpoint whose stored model fields lack model.gde_width
  (written before the field existed) loads with Gde at G's width and draws
  what the same checkpoint with the field draws."""
  workdir = tmp_path / 'old'
  shutil.copytree(os.path.join(run.fold_dir, 'stage1'), workdir)
  (meta_file,) = glob.glob(str(workdir / 'checkpoints' / '*' / 'meta' /
                               'metadata'))
  with open(meta_file) as f:
    meta = json.load(f)
  assert meta['model'].pop('gde_width') == 0.0
  with open(meta_file, 'w') as f:
    json.dump(meta, f)
  old = inference.load_reenactor(str(workdir))
  new = inference.load_reenactor(os.path.join(run.fold_dir, 'stage1'))
  assert old.generator == new.generator
  faces = next(iter(input_pipeline.eval_batches(
      run.dataset, run.test_idx[:2], run.config, batch_size=2)))['image']
  np.testing.assert_array_equal(old.reenact(faces, faces),
                                new.reenact(faces, faces))


@pytest.mark.parametrize('command', ['reenact', 'predict'])
def test_missing_prep_extra_is_one_line_naming_the_install(
    command, run, photos, tmp_path, monkeypatch):
  """Photos need face detection; without the 'prep' extra (dlib) both apps
  say so in one line, with the install command and --no_align, no
  traceback."""
  monkeypatch.setitem(sys.modules, 'dlib', None)  # `import dlib` fails.
  faces._detector.cache_clear()  # pylint: disable=protected-access
  try:
    if command == 'reenact':
      argv = ['--workdir', run.path, '--source', photos['astronaut'],
              '--target', photos['astronaut'], '--out',
              str(tmp_path / 'x.png')]
      main = reenact.main
    else:
      argv = ['--workdir', run.path, photos['astronaut']]
      main = predict.main
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(
        io.StringIO()):
      status = main(argv)
  finally:
    faces._detector.cache_clear()  # pylint: disable=protected-access
  lines = err.getvalue().strip().splitlines()
  assert status == 1
  assert len(lines) == 1 and 'Traceback' not in lines[0]
  assert lines[0].startswith(f'relgan_jax.{command}: error: face detection '
                             "needs the 'prep' extra")
  assert "pip install -e '.[prep]'" in lines[0] and '--no_align' in lines[0]
  assert not (tmp_path / 'x.png').exists()


def _aligned_faces(run, folder, count):
  """`count` of the run's stored test faces as PNGs in `folder` (aligned:
  --no_align reads them without detection)."""
  folder.mkdir()
  for k in range(count):
    Image.fromarray(run.dataset[int(run.test_idx[k])]['image']).save(
        folder / f'face{k}.png')
  return folder


def test_an_existing_out_is_kept_unless_overwrite(run, tmp_path):
  faces_dir = _aligned_faces(run, tmp_path / 'faces', 1)
  out = tmp_path / 'mine.png'
  out.write_bytes(b'a file the user keeps')
  argv = [f'--workdir={run.path}', f'--source={faces_dir}',
          f'--target={faces_dir}', f'--out={out}', '--no_align']
  status, stdout, stderr = _main(argv)
  assert status == 2 and stdout == ''
  assert stderr.strip().splitlines() == [
      f'relgan_jax.reenact: error: --out={out} exists; give another path, '
      'or --overwrite to replace it.']
  assert out.read_bytes() == b'a file the user keeps'
  status, _, stderr = _main(argv + ['--overwrite'])
  assert status == 0, stderr
  assert np.asarray(Image.open(out)).shape == (32, 32, 3)


def test_changes_out_draws_change_cells_of_the_grid(run, tmp_path,
                                                    monkeypatch):
  """--changes_out: the panel is the grid of change_cells(x_bar) under the
  change title, with the grid's labels; refused for one source, for the
  same path as --out, and when it exists."""
  sources = _aligned_faces(run, tmp_path / 'sources', 3)
  drawn = {}
  plot = reenact.reenactment.plot_reenactment_grid

  def spy(x_s, x_t, cells, path, **kwargs):
    drawn[os.path.basename(path)] = (np.array(cells), kwargs)
    return plot(x_s, x_t, cells, path, **kwargs)

  monkeypatch.setattr(reenact.reenactment, 'plot_reenactment_grid', spy)
  out, changes = tmp_path / 'grid.png', tmp_path / 'changes.png'
  argv = [f'--workdir={run.path}', f'--source={sources}',
          f'--target={sources}', f'--out={out}', f'--changes_out={changes}',
          '--no_align']
  status, stdout, stderr = _main(argv)
  assert status == 0, stderr
  assert stdout.splitlines()[1] == f'wrote {changes}: the change panel'
  grid_cells, grid_kwargs = drawn['grid.png']
  panel_cells, panel_kwargs = drawn['changes.png']
  assert grid_cells.shape == (3, 3, 32, 32, 3)
  np.testing.assert_array_equal(
      panel_cells, reenact.reenactment.change_cells(grid_cells))
  assert panel_kwargs['title'] == reenact.reenactment.change_title(
      grid_kwargs.pop('title'))
  panel_kwargs.pop('title')
  assert panel_kwargs == grid_kwargs == {
      'source_labels': ['face0', 'face1', 'face2'],
      'target_labels': ['face0', 'face1', 'face2']}
  # The same layout; the panel's title has one more line.
  assert Image.open(changes).width == Image.open(out).width
  one = _aligned_faces(run, tmp_path / 'one', 1)
  for bad, why in (
      ([f'--source={one}', f'--changes_out={tmp_path / "c2.png"}'],
       '--changes_out needs two or more source images'),
      ([f'--changes_out={out}', '--overwrite'],
       '--changes_out and --out name the same file'),
      ([f'--out={tmp_path / "g2.png"}'],
       f'--changes_out={changes} exists; give another path'),
  ):
    status, _, stderr = _main(argv + bad)
    assert status == 2 and why in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1
