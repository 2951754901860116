"""Stage-1 checkpoints (orbax): save, resume, read, warm start.

A stage-1 checkpoint lives in `workdir/checkpoints/<step>/` with three items:
  state: the whole `gan_steps.GANState` pytree (G and D params, both optax
    states, step, rng, the frozen expression reader when there is one), saved
    with orbax StandardSave;
  data:  the grain iterator state (one JSON file per process), so a resumed run
    continues at the same data position;
  meta:  JSON: Ne, Ni, the identity map, config.model, the step.

The trained parts handed on from a run (Ges alone, the stage-2 MLP) are in
relgan_jax/evaluation/run_files.py.
"""

import dataclasses
import logging as py_logging
import os
from typing import Any, Dict, Optional, Tuple

from absl import logging
from etils import epath
import flax
import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import numpy as np
import orbax.checkpoint as ocp

from relgan_jax import cli

STATE, DATA, META = 'state', 'data', 'meta'


class CheckpointMismatchError(ValueError, cli.UserError):
  """The workdir's checkpoint belongs to a different run set-up."""


def absolute_path(path) -> str:
  """An absolute local path (orbax needs one), or a URL (gs://...) as is."""
  path = os.fspath(path)
  return path if '://' in path else os.path.abspath(path)


CHECKPOINTS_DIR = 'checkpoints'  # In a stage-1 workdir.


def checkpoint_dir(workdir: str) -> str:
  return os.path.join(workdir, CHECKPOINTS_DIR)


def _data_args(data_iter, save: bool):
  # grain's handler is registered with orbax on import of grain.checkpoint.
  import grain.checkpoint  # pylint: disable=g-import-not-at-top
  if save:
    return grain.checkpoint.CheckpointSave(data_iter)
  return grain.checkpoint.CheckpointRestore(data_iter)


def _write_replicated_arrays_once() -> None:
  """On CPU, has orbax write each replicated array once, from replica 0.

  orbax's default off GPU is replica-parallel saving: the devices holding a
  copy of an array each write a slice of it, which costs one compiled slice
  program per array shape and device (66 for the tiny config's state on 2
  devices, ~1.5-3 s of a test's command line) and gains nothing where the
  devices are one host's cores sharing its memory and disk. This is what
  orbax does on GPU. The files are read back the same way. orbax's warning
  that a handler overrides jax.Array's is dropped: this override is meant,
  and the warning read as a problem in every run's log.
  """
  if jax.default_backend() != 'cpu':
    return
  handler = ocp.type_handlers.get_type_handler(jax.Array)
  if getattr(handler, 'relgan_replica_parallel_off', False):
    return
  handler = ocp.type_handlers.ArrayHandler(use_replica_parallel=False)
  handler.relgan_replica_parallel_off = True
  absl_logger = py_logging.getLogger('absl')  # orbax logs through absl.
  meant = _DropMessages('overriding jax.Array')
  absl_logger.addFilter(meant)
  try:
    ocp.type_handlers.register_type_handler(jax.Array, handler, override=True)
  finally:
    absl_logger.removeFilter(meant)


class _DropMessages(py_logging.Filter):
  """Drops log records whose message contains `text`."""

  def __init__(self, text: str):
    super().__init__()
    self.text = text

  def filter(self, record):
    return self.text not in record.getMessage()


def make_manager(workdir: str, keep: int = 3,
                 read_only: bool = False) -> ocp.CheckpointManager:
  """The CheckpointManager of workdir/checkpoints, keeping the last `keep`."""
  if not read_only:
    _write_replicated_arrays_once()
  options = ocp.CheckpointManagerOptions(
      max_to_keep=keep, create=not read_only, read_only=read_only)
  return ocp.CheckpointManager(absolute_path(checkpoint_dir(workdir)),
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
  # A checkpoint written before a state field existed restores when that
  # field holds nothing here (e.g. GANState.reader = {} without a reader).
  step_dir = epath.Path(manager.directory) / str(step)
  target, absent = _saved_part(abstract_state, step_dir)
  items = {STATE: ocp.args.StandardRestore(target),
           META: ocp.args.JsonRestore()}
  if data_iter is not None:
    data_dir = step_dir / DATA
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
  state = restored[STATE]
  if absent:
    state = abstract_state.replace(**state)
  return state, restored[META]


def _saved_part(abstract_state: Any, step_dir: epath.Path):
  """(the restore target, names of its leafless dataclass fields that the
  checkpoint at step_dir lacks): the target is abstract_state itself, or,
  when such fields exist, a dict of its other fields."""
  if not dataclasses.is_dataclass(abstract_state):
    return abstract_state, []
  tree = ocp.PyTreeCheckpointHandler().metadata(step_dir / STATE)
  saved = getattr(tree, 'tree', tree)
  fields = [f.name for f in dataclasses.fields(abstract_state)]
  absent = [name for name in fields if name not in saved
            and not jax.tree.leaves(getattr(abstract_state, name))]
  if not absent:
    return abstract_state, []
  return {name: getattr(abstract_state, name) for name in fields
          if name not in absent}, absent


def load_state_tree(path: str) -> Tuple[Dict[str, Any], Dict[str, Any]]:
  """Reads the latest state of a stage-1 run as nested dicts of numpy arrays.

  Args:
    path: a workdir, its checkpoints/ folder, or one step folder.

  Returns:
    (state dict with keys 'g_params', 'd_params', ..., meta).
  """
  path = epath.Path(absolute_path(path))  # orbax needs absolute paths.
  if (path / CHECKPOINTS_DIR).is_dir():
    path = path / CHECKPOINTS_DIR
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
  optimiser states; step 0. Where `state` keeps G's moving average, it
  starts at the other run's average (else at its G)."""
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
  g_ema = state.g_ema
  if g_ema:
    g_ema, _ = _merge_params(g_ema, tree.get('g_ema') or tree['g_params'],
                             strict=True, what="G's average")
  replicated = NamedSharding(mesh, P())
  g_params, d_params, g_stats, g_ema = jax.device_put(
      (g_params, d_params, g_stats, g_ema), replicated)
  return state.replace(g_params=g_params, d_params=d_params,
                       g_batch_stats=g_stats, g_ema=g_ema)
