"""Ges export/import, warm start from another run, checkpoint errors.

Parameters are random numpy trees of the right shapes (no compilation).
"""

import functools
import os

import chex
import compile_events
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from configs import tiny
from relgan_jax.evaluation import run_files
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import gan_steps


def _random_like(abstract, seed):
  rng = np.random.default_rng(seed)
  return jax.tree.map(
      lambda s: rng.standard_normal(s.shape).astype(s.dtype)
      if jnp.issubdtype(s.dtype, jnp.floating) else np.zeros(s.shape, s.dtype),
      abstract)


def _g_variables(config, seed=0):
  g = models.build_generator(config)
  s = config.model.image_size
  x = jax.ShapeDtypeStruct((1, s, s, 3), jnp.float32)
  return _random_like(jax.eval_shape(g.init, jax.random.key(0), x, x), seed)


def _state(config, num_identities, seed, g_ema=False):
  g_model = models.build_generator(config)
  d_model = models.build_discriminator(config, 3, num_identities)
  g_tx, d_tx = gan_steps.make_optimizers(config)
  create = functools.partial(gan_steps.create_state, g_model=g_model,
                             d_model=d_model, g_tx=g_tx, d_tx=d_tx,
                             g_ema=g_ema)
  abstract = jax.eval_shape(create, jax.random.PRNGKey(0))
  return _random_like(abstract, seed)


def test_export_and_load_encoder_round_trip(tmp_path):
  config = tiny.get_config()
  g_params = _g_variables(config)['params']
  path = run_files.export_encoder(g_params, config, str(tmp_path / 'enc'))
  assert sorted(os.listdir(path)) == ['encoder.json', 'ges']
  ges, params = run_files.load_encoder(path)
  assert isinstance(ges, models.Ges)
  assert (ges.image_size, ges.width, ges.norm, ges.f_e_dim) == (
      32, 0.125, 'group', 30)
  chex.assert_trees_all_equal(jax.device_get(params), g_params['Ges'])
  x = jax.ShapeDtypeStruct((2, 32, 32, 3), jnp.float32)
  assert jax.eval_shape(ges.apply, {'params': params}, x).shape == (2, 30)
  # Exporting again to the same folder replaces the export.
  g_params2 = _g_variables(config, seed=1)['params']
  run_files.export_encoder(g_params2, config, path)
  chex.assert_trees_all_equal(
      jax.device_get(run_files.load_encoder(path)[1]), g_params2['Ges'])


def test_export_encoder_with_batchnorm_keeps_statistics(tmp_path):
  config = tiny.get_config()
  config.model.norm = 'batch'
  variables = _g_variables(config)
  with pytest.raises(ValueError, match='g_batch_stats'):
    run_files.export_encoder(variables['params'], config, str(tmp_path))
  path = run_files.export_encoder(
      variables['params'], config, str(tmp_path / 'enc'),
      g_batch_stats=variables['batch_stats'])
  with pytest.raises(ValueError, match='return_variables=True'):
    run_files.load_encoder(path)
  _, restored = run_files.load_encoder(path, return_variables=True)
  chex.assert_trees_all_equal(
      jax.device_get(restored),
      {'params': variables['params']['Ges'],
       'batch_stats': variables['batch_stats']['Ges']})


def test_warm_start_takes_g_and_fitting_d_layers(tmp_path):
  config = tiny.get_config()
  workdir = str(tmp_path / 'pretrain')
  saved = _state(config, num_identities=5, seed=0)
  manager = checkpointing.make_manager(workdir)
  checkpointing.save(manager, 7, saved, None, {'num_identities': 5})
  manager.wait_until_finished()
  manager.close()
  chex.assert_trees_all_equal(checkpointing.load_generator_params(workdir),
                              saved.g_params)

  fresh = _state(config, num_identities=4, seed=1)  # Other Ni: Di differs.
  mesh = gan_steps.make_mesh(jax.devices()[:1])
  state = jax.device_get(checkpointing.warm_start(fresh, workdir, mesh))
  chex.assert_trees_all_equal(state.g_params, saved.g_params)
  chex.assert_trees_all_equal(state.d_params['De'], saved.d_params['De'])
  chex.assert_trees_all_equal(state.d_params['conv0'], saved.d_params['conv0'])
  # Di's output layer has Ni rows: it stays freshly initialised.
  chex.assert_trees_all_equal(state.d_params['Di']['logits'],
                              fresh.d_params['Di']['logits'])
  chex.assert_trees_all_equal(state.g_opt_state, fresh.g_opt_state)

  config.model.width = 0.25  # G of another shape cannot be warm-started.
  with pytest.raises(ValueError, match='init checkpoint: G leaf'):
    checkpointing.warm_start(_state(config, 4, 2), workdir, mesh)


def test_warm_start_takes_g_moving_average_else_g(tmp_path):
  """A run with G's moving average starts it at the other run's average, or
  at the other run's G where that run kept none."""
  config = tiny.get_config()
  mesh = gan_steps.make_mesh(jax.devices()[:1])
  for saved_ema in (True, False):
    workdir = str(tmp_path / f'pretrain_{saved_ema}')
    saved = _state(config, num_identities=4, seed=0, g_ema=saved_ema)
    manager = checkpointing.make_manager(workdir)
    checkpointing.save(manager, 7, saved, None, {'num_identities': 4})
    manager.wait_until_finished()
    manager.close()
    fresh = _state(config, num_identities=4, seed=1, g_ema=True)
    state = jax.device_get(checkpointing.warm_start(fresh, workdir, mesh))
    chex.assert_trees_all_equal(state.g_params, saved.g_params)
    chex.assert_trees_all_equal(
        state.g_ema, saved.g_ema if saved_ema else saved.g_params)
    if saved_ema:  # Random trees: the average differs from G.
      assert not np.array_equal(jax.tree.leaves(saved.g_ema)[0],
                                jax.tree.leaves(saved.g_params)[0])


def test_missing_checkpoint_and_encoder_name_the_path(tmp_path):
  with pytest.raises(FileNotFoundError, match='No stage-1 checkpoint at'):
    checkpointing.load_state_tree(str(tmp_path))
  with pytest.raises(FileNotFoundError, match='encoder.json is missing'):
    run_files.load_encoder(str(tmp_path))


def test_relative_workdir_saves_and_loads(tmp_path, monkeypatch):
  # orbax needs absolute paths; `--workdir=runs/x` must still work.
  monkeypatch.chdir(tmp_path)
  manager = checkpointing.make_manager(os.path.join('runs', 'x'))
  state = {'w': np.arange(3.0)}
  checkpointing.save(manager, 1, state, None, meta={})
  manager.wait_until_finished()
  assert manager.latest_step() == 1
  assert os.path.isdir(tmp_path / 'runs' / 'x' / 'checkpoints' / '1')
  tree, _ = checkpointing.load_state_tree(os.path.join('runs', 'x'))
  np.testing.assert_array_equal(tree['w'], state['w'])


def test_state_saved_before_the_reader_field_restores(tmp_path):
  """A checkpoint written before GANState had its `reader` field (a dict of
  the other fields, as orbax stored the older dataclass) restores into
  today's state without a reader; a reader the checkpoint lacks while this
  run has one is a mismatch, not silently fresh."""
  config = tiny.get_config()
  state = _state(config, num_identities=4, seed=0)
  assert state.reader == {}
  old = {f: getattr(state, f) for f in ('step', 'g_params', 'g_batch_stats',
                                        'd_params', 'g_opt_state',
                                        'd_opt_state', 'rng')}
  manager = checkpointing.make_manager(str(tmp_path))
  checkpointing.save(manager, 3, old, None, {'num_identities': 4})
  manager.wait_until_finished()
  abstract = jax.tree.map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                          state)
  restored, meta = checkpointing.restore(manager, abstract)
  assert isinstance(restored, gan_steps.GANState) and meta['step'] == 3
  chex.assert_trees_all_equal(jax.device_get(restored), state)

  reader = {'params': {'w': jax.ShapeDtypeStruct((2,), jnp.float32)}}
  with pytest.raises(ValueError):
    checkpointing.restore(manager, abstract.replace(reader=reader))


def test_saving_a_replicated_state_on_cpu_compiles_nothing(tmp_path):
  """On CPU each replicated array is written once (replica 0), not split into
  per-device slices, each of which orbax would cut with a compiled program
  per shape and device; the arrays read back equal."""
  mesh = gan_steps.make_mesh(jax.devices()[:2])
  replicated = jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
  rng = np.random.default_rng(0)
  tree = {f'w{i}': jax.device_put(
      rng.standard_normal((8 + i, 4)).astype(np.float32), replicated)
          for i in range(3)}
  manager = checkpointing.make_manager(str(tmp_path))
  with compile_events.compile_events([]) as compiles:
    checkpointing.save(manager, 1, tree, None, {})
    manager.wait_until_finished()
  assert not compiles
  got, meta = checkpointing.load_state_tree(str(tmp_path))
  assert meta['step'] == 1
  chex.assert_trees_all_equal(got, jax.device_get(tree))


def test_replica_parallel_off_is_set_once_without_orbax_warning(caplog):
  """The meant override of orbax's jax.Array handler logs no warning, the
  warning of another override still comes through, and a second call keeps
  the handler."""
  import orbax.checkpoint as ocp  # pylint: disable=g-import-not-at-top
  restore = ocp.type_handlers.get_type_handler(jax.Array)
  try:
    with caplog.at_level('WARNING'):
      ocp.type_handlers.register_type_handler(
          jax.Array, ocp.type_handlers.ArrayHandler(), override=True)
    assert 'overriding jax.Array' in caplog.text  # Orbax's own warning.
    caplog.clear()
    write_once = checkpointing._write_replicated_arrays_once  # pylint: disable=protected-access
    with caplog.at_level('WARNING'):
      write_once()
      ours = ocp.type_handlers.get_type_handler(jax.Array)
      write_once()
    assert 'overriding' not in caplog.text
    assert ours.relgan_replica_parallel_off
    assert ocp.type_handlers.get_type_handler(jax.Array) is ours
  finally:
    ocp.type_handlers.register_type_handler(jax.Array, restore, override=True)
