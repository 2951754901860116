"""Stage-1 checkpoints (orbax) and the exported expression encoder Ges.

A stage-1 checkpoint lives in `workdir/checkpoints/<step>/` with three items:
  state: the whole `gan_steps.GANState` pytree (G and D params, both optax
    states, step, rng), saved with orbax StandardSave;
  data:  the grain iterator state (one JSON file per process), so a resumed run
    continues at the same data position;
  meta:  JSON: Ne, Ni, the identity map, config.model, the step.

`export_encoder` writes Ges alone (Ges = the expression encoder, whose output
f_e is the learned expression code) to a folder with `ges/` (orbax PyTree) and
`encoder.json` (the module fields); `load_encoder` rebuilds `models.Ges` and
its params from that folder, for stage 2.
"""

import json
import os
from typing import Any, Dict, Optional, Tuple

from absl import logging
from etils import epath
import flax
import jax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import ml_collections
import numpy as np
import orbax.checkpoint as ocp

from relgan_jax import cli
from relgan_jax import models

STATE, DATA, META = 'state', 'data', 'meta'
ENCODER_JSON = 'encoder.json'
ENCODER_TREE = 'ges'


class CheckpointMismatchError(ValueError, cli.UserError):
  """The workdir's checkpoint belongs to a different run set-up."""


def _absolute(path) -> str:
  """An absolute local path (orbax needs one), or a URL (gs://...) as is."""
  path = os.fspath(path)
  return path if '://' in path else os.path.abspath(path)


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(workdir, 'checkpoints')


def _data_args(data_iter, save: bool):
  # grain's handler is registered with orbax on import of grain.checkpoint.
  import grain.checkpoint  # pylint: disable=g-import-not-at-top
  if save:
    return grain.checkpoint.CheckpointSave(data_iter)
  return grain.checkpoint.CheckpointRestore(data_iter)


def make_manager(workdir: str, keep: int = 3,
                 read_only: bool = False) -> ocp.CheckpointManager:
  """The CheckpointManager of workdir/checkpoints, keeping the last `keep`."""
  options = ocp.CheckpointManagerOptions(
      max_to_keep=keep, create=not read_only, read_only=read_only)
  return ocp.CheckpointManager(_absolute(checkpoint_dir(workdir)),
                               options=options)


def save(manager: ocp.CheckpointManager, step: int, state: Any,
         data_iter: Any, meta: Dict[str, Any], *, force: bool = True) -> bool:
  """Saves state, iterator position and meta as checkpoint `step`.

  The iterator state is read now (synchronously), the arrays are copied to the
  host before this returns and written in the background; call
  `manager.wait_until_finished()` before reading the checkpoint back.
  """
  items = {STATE: ocp.args.StandardSave(state),
           META: ocp.args.JsonSave(dict(meta, step=int(step)))}
  if data_iter is not None:
    items[DATA] = _data_args(data_iter, save=True)
  return manager.save(step, args=ocp.args.Composite(**items), force=force)


def restore(manager: ocp.CheckpointManager, abstract_state: Any,
            data_iter: Any = None, step: Optional[int] = None
            ) -> Tuple[Any, Dict[str, Any]]:
  """Restores checkpoint `step` (default: latest) into `abstract_state`'s
  structure and shardings; sets `data_iter`'s position when it is given.

  Returns:
    (state, meta).
  """
  step = manager.latest_step() if step is None else step
  if step is None:
    raise FileNotFoundError(f'No checkpoint in {manager.directory}.')
  items = {STATE: ocp.args.StandardRestore(abstract_state),
           META: ocp.args.JsonRestore()}
  if data_iter is not None:
    data_dir = epath.Path(manager.directory) / str(step) / DATA
    if not data_dir.exists():
      raise FileNotFoundError(
          f'Checkpoint {manager.directory}/{step} has no data iterator state '
          f'({DATA}/); cannot resume the input position.')
    # grain keeps one position per process: process_<i>-of-<n>.json.
    mine = f'process_{jax.process_index()}-of-{jax.process_count()}.json'
    if not (data_dir / mine).exists():
      found = sorted(p.name for p in data_dir.iterdir()
                     if p.name.endswith('.json'))
      raise CheckpointMismatchError(
          f'{data_dir} holds the data positions {found}, written by another '
          f'number of processes than the {jax.process_count()} of this run: '
          'resume with the same number of processes (or start a new '
          '--workdir, e.g. with protocol.pretrained_checkpoint).')
    items[DATA] = _data_args(data_iter, save=False)
  restored = manager.restore(step, args=ocp.args.Composite(**items))
  return restored[STATE], restored[META]


def load_state_tree(path: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
  """Reads the latest state of a stage-1 run as nested dicts of numpy arrays.

  Args:
    path: a workdir, its checkpoints/ folder, or one step folder.

  Returns:
    (state dict with keys 'g_params', 'd_params', ..., meta).
  """
  path = epath.Path(_absolute(path))  # orbax needs absolute paths.
  if (path / 'checkpoints').is_dir():
    path = path / 'checkpoints'
  if not (path / STATE).is_dir():
    steps = sorted(int(p.name) for p in path.iterdir() if p.name.isdigit()) \
        if path.is_dir() else []
    if not steps:
      raise FileNotFoundError(
          f'No stage-1 checkpoint at {path} (expected <workdir>/checkpoints/'
          '<step>/state, written by train.train_gan).')
    path = path / str(steps[-1])
  # Every leaf as a host numpy array: the checkpoint may come from other
  # devices (e.g. a multi-host TPU run read on a laptop), whose shardings
  # cannot be rebuilt here.
  tree = ocp.PyTreeCheckpointHandler().metadata(path / STATE)
  as_numpy = jax.tree.map(
      lambda _: ocp.RestoreArgs(restore_type=np.ndarray),
      getattr(tree, 'tree', tree))
  checkpointer = ocp.Checkpointer(ocp.CompositeCheckpointHandler())
  restored = checkpointer.restore(path, args=ocp.args.Composite(**{
      STATE: ocp.args.PyTreeRestore(restore_args=as_numpy),
      META: ocp.args.JsonRestore()}))
  return restored[STATE], restored[META]


# --- The exported expression encoder ------------------------------------------


def export_encoder(g_params: Any, config: ml_collections.ConfigDict, path: str,
                   *, g_batch_stats: Any = None) -> str:
  """Writes Ges alone (params, and batch stats under BatchNorm) to `path`.

  Args:
    g_params: G's params {'Ges': ..., 'Get': ..., 'Gde': ...}.
    config: the run's config (config.model gives the module fields).
    path: output folder (created; an existing export there is replaced).
    g_batch_stats: G's batch_stats collection when config.model.norm == 'batch'.

  Returns:
    `path`.
  """
  if 'Ges' not in g_params:
    raise ValueError('export_encoder: g_params has no "Ges" entry, got keys '
                     f'{sorted(g_params)}.')
  m = config.model
  if m.norm == 'batch' and not g_batch_stats:
    raise ValueError('export_encoder: config.model.norm is "batch" but no '
                     'g_batch_stats were given.')
  tree = {'params': g_params['Ges']}
  if m.norm == 'batch':
    tree['batch_stats'] = g_batch_stats['Ges']
  path = _absolute(path)
  checkpointer = ocp.PyTreeCheckpointer()
  checkpointer.save(os.path.join(path, ENCODER_TREE),
                    args=ocp.args.PyTreeSave(tree), force=True)
  fields = dict(image_size=m.image_size, width=m.width, norm=m.norm,
                dtype=m.dtype, f_e_dim=m.f_e_dim)
  if jax.process_index() == 0:
    tmp = epath.Path(path) / (ENCODER_JSON + '.tmp')
    tmp.write_text(json.dumps({'module': 'Ges', 'fields': fields}, indent=2))
    tmp.replace(epath.Path(path) / ENCODER_JSON)
  return path


def load_encoder(path: str, *, return_variables: bool = False
                 ) -> Tuple[models.Ges, Any]:
  """Rebuilds the exported Ges.

  Args:
    path: a folder written by `export_encoder`.
    return_variables: return the whole variables dict ({'params', and
      'batch_stats' under BatchNorm}) instead of the params; needed when the
      encoder uses BatchNorm.

  Returns:
    (ges_module, ges_params), where `ges_module.apply({'params': ges_params},
    x)` gives f_e [B, f_e_dim] for x in [-1, 1]; or (ges_module, variables)
    with return_variables.
  """
  json_path = epath.Path(path) / ENCODER_JSON
  if not json_path.exists():
    raise FileNotFoundError(
        f'No exported encoder at {path}: {json_path} is missing (write it with '
        'checkpointing.export_encoder).')
  fields = json.loads(json_path.read_text())['fields']
  ges = models.Ges(image_size=fields['image_size'], width=fields['width'],
                   norm=fields['norm'], dtype=jnp.dtype(fields['dtype']),
                   f_e_dim=fields['f_e_dim'])
  if fields['norm'] == 'batch' and not return_variables:
    raise ValueError(f'The encoder at {path} uses BatchNorm: call '
                     'load_encoder(path, return_variables=True) to get its '
                     'batch statistics too.')
  x = jax.ShapeDtypeStruct((1, ges.image_size, ges.image_size, 3), jnp.float32)
  abstract = jax.eval_shape(ges.init, jax.random.key(0), x)
  restore_args = ocp.checkpoint_utils.construct_restore_args(abstract)
  variables = ocp.PyTreeCheckpointer().restore(
      os.path.join(_absolute(path), ENCODER_TREE),
      args=ocp.args.PyTreeRestore(item=abstract, restore_args=restore_args))
  if return_variables:
    return ges, variables
  return ges, variables['params']


def load_generator_params(path: str) -> Any:
  """G's params {'Ges', 'Get', 'Gde'} (numpy) from a stage-1 run's latest
  checkpoint (a workdir, its checkpoints/ folder or one step folder)."""
  state, _ = load_state_tree(path)
  return state['g_params']


# --- Warm start from another stage-1 run ---------------------------------------


def _merge_params(fresh, loaded, *, strict: bool, what: str):
  """`fresh` with every leaf of `loaded` that has the same path and shape.

  strict: every leaf must be found with the same shape (else ValueError).
  Returns (merged tree, list of leaf paths kept fresh).
  """
  flat_fresh = flax.traverse_util.flatten_dict(flax.core.unfreeze(fresh),
                                               sep='/')
  flat_loaded = flax.traverse_util.flatten_dict(loaded, sep='/')
  merged, kept = {}, []
  for path, value in flat_fresh.items():
    other = flat_loaded.get(path)
    if other is not None and tuple(np.shape(other)) == tuple(value.shape):
      merged[path] = np.asarray(other, dtype=value.dtype)
    elif strict:
      raise ValueError(
          f'init checkpoint: {what} leaf {path} is missing or has shape '
          f'{None if other is None else np.shape(other)} instead of '
          f'{value.shape}; was it trained with another config.model?')
    else:
      merged[path], kept = value, kept + [path]
  return flax.traverse_util.unflatten_dict(merged, sep='/'), kept


def warm_start(state: Any, path: str, mesh: Mesh) -> Any:
  """G (all of it) and D (every layer whose shape fits: the De/Di outputs
  differ when Ne/Ni differ) from another run's latest checkpoint; fresh
  optimiser states; step 0."""
  tree, meta = load_state_tree(path)
  g_params, _ = _merge_params(state.g_params, tree['g_params'], strict=True,
                              what='G')
  d_params, kept = _merge_params(state.d_params, tree['d_params'],
                                 strict=False, what='D')
  g_stats = state.g_batch_stats
  if g_stats:
    g_stats, _ = _merge_params(g_stats, tree['g_batch_stats'], strict=True,
                               what='G batch_stats')
  logging.info('Warm start from %s (step %s); D layers re-initialised: %s',
               path, meta.get('step'), kept or 'none')
  replicated = NamedSharding(mesh, P())
  g_params, d_params, g_stats = jax.device_put((g_params, d_params, g_stats),
                                               replicated)
  return state.replace(g_params=g_params, d_params=d_params,
                       g_batch_stats=g_stats)
