"""Stage 1: adversarial reenactment training of G and D (DESIGN.md §3-§4).

Paper names: x_s (source face: its expression y_e_s is to be shown), x_t
(target face: its identity y_i_t is to be kept), x_tg (real photo of the target
with the source expression), x_bar = Gde(Ges(x_s), Get(x_t)). G = {Ges, Get,
Gde}; D has the heads De (Ne + 1 logits, the last "fake") and Di (Ni logits).

Reads top to bottom: the state pytree, the two per-device update programs
(`d_step`, `g_step`) mapped over the 1-D 'data' mesh axis with `jax.shard_map`,
then `train_gan`, the loop (input, init/resume, steps, metrics, checkpoints).

Conventions:
  * `GANState.step` counts iterations: one batch = one D update, followed by
    one G update, or `g_steps_per_d_step` G updates once the G boost has
    started. The extra G updates reuse the iteration's batch.
  * Randomness: the current networks draw no random numbers (GroupNorm, no
    dropout). `state.rng` is the base key, checkpointed with everything else;
    a step variant that needs randomness derives its key as
    `fold_in(fold_in(state.rng, state.step), lax.axis_index('data'))`, never
    by splitting and storing, so a resumed run draws the same numbers.
  * Batches arrive as host-local uint8/int32 numpy dicts (input_pipeline's
    stage-1 batches) and become global arrays sharded P('data'); images are
    normalised to [-1, 1] on the device.
"""

import functools
import math
import os
import time
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

from absl import logging
import flax
import jax
from jax import lax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import ml_collections
import numpy as np
import optax
import tqdm

from relgan_jax import checkpointing
from relgan_jax import config_checks
from relgan_jax import distributed
from relgan_jax import input_pipeline
from relgan_jax import losses
from relgan_jax import metric_writers
from relgan_jax import models
from relgan_jax import preemption
from relgan_jax import reenactment_summary

AXIS = 'data'
BATCH_KEYS = ('x_s', 'x_t', 'x_tg', 'y_e_s', 'y_i_t')
Batch = Dict[str, Any]
Metrics = Dict[str, jnp.ndarray]


class NonFiniteLossError(FloatingPointError):
  """A loss term or gradient norm became NaN/Inf; training stopped."""


# --- State ------------------------------------------------------------------


@flax.struct.dataclass
class GANState:
  """Everything stage 1 trains, as one pytree (what a checkpoint holds).

  Attributes:
    step: int32 scalar, completed iterations.
    g_params: G's params {'Ges', 'Get', 'Gde'}.
    g_batch_stats: G's BatchNorm statistics ({} unless norm == 'batch').
    d_params: D's params.
    g_opt_state: G's optax (Adam) state.
    d_opt_state: D's optax (Adam) state.
    rng: the base PRNG key (raw uint32[2]); steps use fold_in(rng, step).
  """
  step: jnp.ndarray
  g_params: Any
  g_batch_stats: Any
  d_params: Any
  g_opt_state: Any
  d_opt_state: Any
  rng: jnp.ndarray


def _optimizer_hparams(config: ml_collections.ConfigDict) -> Tuple:
  t = config.train
  return (float(t.g_lr), float(t.d_lr), float(t.b1), float(t.b2))


def _adams(g_lr, d_lr, b1, b2):
  return optax.adam(g_lr, b1=b1, b2=b2), optax.adam(d_lr, b1=b1, b2=b2)


def make_optimizers(config: ml_collections.ConfigDict):
  """(g_tx, d_tx): two separate Adams (lr 1e-4, b1 0.5 by default)."""
  return _adams(*_optimizer_hparams(config))


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh over `devices` (default: all devices of all processes)."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (AXIS,))


def create_state(rng: jnp.ndarray, g_model: models.Generator,
                 d_model: models.Discriminator, g_tx, d_tx) -> GANState:
  """Fresh parameters and optimiser states (call under jit)."""
  rng, g_key, d_key = jax.random.split(rng, 3)
  x = jnp.zeros((1, g_model.image_size, g_model.image_size, 3), jnp.float32)
  g_vars = g_model.init(g_key, x, x)
  d_params = d_model.init(d_key, x)['params']
  return GANState(
      step=jnp.zeros((), jnp.int32), g_params=g_vars['params'],
      g_batch_stats=g_vars.get('batch_stats', {}), d_params=d_params,
      g_opt_state=g_tx.init(g_vars['params']), d_opt_state=d_tx.init(d_params),
      rng=rng)


def _init_program(g_model, d_model, g_tx, d_tx, mesh: Mesh) -> Callable:
  return jax.jit(functools.partial(create_state, g_model=g_model,
                                   d_model=d_model, g_tx=g_tx, d_tx=d_tx),
                 out_shardings=NamedSharding(mesh, P()))


def init_state(config: ml_collections.ConfigDict, g_model, d_model, g_tx,
               d_tx, mesh: Mesh) -> GANState:
  """A fresh GANState, replicated over `mesh`."""
  return _init_program(g_model, d_model, g_tx, d_tx, mesh)(
      jax.random.PRNGKey(config.seed))


def shard_batch(batch: Mapping[str, np.ndarray], mesh: Mesh) -> Batch:
  """Host-local numpy batch -> global arrays sharded P('data') over `mesh`."""
  missing = [k for k in BATCH_KEYS if k not in batch]
  if missing:
    raise KeyError(f'stage-1 batch lacks {missing}; got {sorted(batch)}.')
  sharding = NamedSharding(mesh, P(AXIS))
  local = len(mesh.local_devices)
  out = {}
  for k in BATCH_KEYS:
    v = np.asarray(batch[k])
    if v.shape[0] % local:
      raise ValueError(f'batch[{k!r}] has {v.shape[0]} examples, not a '
                       f'multiple of the {local} local devices.')
    out[k] = jax.make_array_from_process_local_data(sharding, v)
  return out


# --- Per-device update programs ----------------------------------------------


def _g_variables(state: GANState) -> Dict[str, Any]:
  variables = {'params': state.g_params}
  if state.g_batch_stats:
    variables['batch_stats'] = state.g_batch_stats
  return variables


def _reenact(g_model, variables, x_s, x_t):
  """x_bar in training mode; also returns updated BatchNorm stats (or {})."""
  if 'batch_stats' in variables:
    x_bar, mutated = g_model.apply(variables, x_s, x_t, train=True,
                                   mutable=['batch_stats'])
    return x_bar, mutated['batch_stats']
  return g_model.apply(variables, x_s, x_t, train=True), {}


def _varying(tree):
  # Mark replicated params as per-device before differentiating: their
  # gradients are then per-device too, and pmean below averages them (with
  # invariant params, shard_map would already sum them over devices).
  return jax.tree.map(lambda p: lax.pcast(p, AXIS, to='varying'), tree)


def d_step_fn(state: GANState, batch: Batch, *, g_model, d_model, d_tx,
              loss_config) -> Tuple[GANState, Metrics]:
  """One D update on this device's share of the batch (inside shard_map).

  L_D = λ1·CE(De(x_bar), fake) + λ3·CE(De(x_s), y_e_s) + λ4·CE(Di(x_t), y_i_t),
  differentiated w.r.t. D's params only; G runs forward (training mode) and
  its BatchNorm statistics, if any, are not updated here.
  """
  normalize = input_pipeline.normalize
  x_s, x_t = normalize(batch['x_s']), normalize(batch['x_t'])
  x_bar, _ = _reenact(g_model, _g_variables(state), x_s, x_t)
  x_bar = lax.stop_gradient(x_bar)
  b = x_s.shape[0]

  def loss_fn(d_params):
    # One D pass over [x_bar; x_s; x_t] (D has no batch-dependent layers).
    de, di = d_model.apply({'params': d_params},
                           jnp.concatenate([x_bar, x_s, x_t]))
    total, terms = losses.d_loss(de[:b], de[b:2 * b], di[2 * b:],
                                 batch['y_e_s'], batch['y_i_t'], loss_config)
    terms['d_exp_acc'] = losses.accuracy(de[b:2 * b], batch['y_e_s'])
    return total, terms

  (_, metrics), grads = jax.value_and_grad(loss_fn, has_aux=True)(
      _varying(state.d_params))
  grads = lax.pmean(grads, AXIS)
  metrics = lax.pmean(metrics, AXIS)
  metrics['d_grad_norm'] = optax.tree.norm(grads)
  updates, d_opt_state = d_tx.update(grads, state.d_opt_state, state.d_params)
  new_state = state.replace(step=state.step + 1,
                            d_params=optax.apply_updates(state.d_params,
                                                         updates),
                            d_opt_state=d_opt_state)
  return new_state, metrics


def g_step_fn(state: GANState, batch: Batch, *, g_model, d_model, g_tx,
              loss_config) -> Tuple[GANState, Metrics]:
  """One G update on this device's share of the batch (inside shard_map).

  L_G = λ1·L_adv + λ2·|x_bar − x_tg|_1 + λ3·CE(De(x_bar), y_e_s)
        + λ4·CE(Di(x_bar), y_i_t), differentiated w.r.t. G's params only.
  """
  normalize = input_pipeline.normalize
  x_s, x_t = normalize(batch['x_s']), normalize(batch['x_t'])
  x_tg = normalize(batch['x_tg'])
  batch_stats = state.g_batch_stats

  def loss_fn(g_params):
    variables = {'params': g_params}
    if batch_stats:
      variables['batch_stats'] = batch_stats
    x_bar, new_stats = _reenact(g_model, variables, x_s, x_t)
    de, di = d_model.apply({'params': state.d_params}, x_bar)
    total, terms = losses.g_loss(de, di, x_bar, x_tg, batch['y_e_s'],
                                 batch['y_i_t'], loss_config)
    return total, (terms, new_stats)

  (_, (metrics, new_stats)), grads = jax.value_and_grad(
      loss_fn, has_aux=True)(_varying(state.g_params))
  grads = lax.pmean(grads, AXIS)
  metrics = lax.pmean(metrics, AXIS)
  metrics['g_grad_norm'] = optax.tree.norm(grads)
  updates, g_opt_state = g_tx.update(grads, state.g_opt_state, state.g_params)
  new_state = state.replace(g_params=optax.apply_updates(state.g_params,
                                                         updates),
                            g_opt_state=g_opt_state)
  if batch_stats:
    # BatchNorm averaged its statistics over AXIS; pmean makes that explicit.
    new_state = new_state.replace(g_batch_stats=lax.pmean(new_stats, AXIS))
  return new_state, metrics


def _map_over_mesh(fn: Callable, mesh: Mesh) -> Callable:
  """jit(shard_map(fn)) with the state replicated, the batch split, and the
  state's buffers donated."""
  mapped = jax.shard_map(fn, mesh=mesh, in_specs=(P(), P(AXIS)),
                         out_specs=(P(), P()))
  return jax.jit(mapped, donate_argnums=0)


def make_steps(config: ml_collections.ConfigDict, g_model, d_model, g_tx,
               d_tx, mesh: Mesh, *, decorate: Callable = lambda f: f):
  """The jitted, mesh-mapped (d_step, g_step): (state, batch) -> (state, m).

  Args:
    config: the run's config (config.loss gives the λs).
    g_model, d_model: G and D (G built with bn_axis_name=AXIS).
    g_tx, d_tx: the two optimisers.
    mesh: the 1-D 'data' mesh.
    decorate: applied to each per-device function before mapping (tests use
      chex.assert_max_traces).
  """
  losses.check_loss_config(config.loss)
  loss_config = ml_collections.FrozenConfigDict(config.loss)
  d_fn = functools.partial(decorate(d_step_fn), g_model=g_model,
                           d_model=d_model, d_tx=d_tx, loss_config=loss_config)
  g_fn = functools.partial(decorate(g_step_fn), g_model=g_model,
                           d_model=d_model, g_tx=g_tx, loss_config=loss_config)
  return _map_over_mesh(d_fn, mesh), _map_over_mesh(g_fn, mesh)


class _Programs(NamedTuple):
  init: Callable  # rng -> GANState
  d_step: Callable
  g_step: Callable
  reenact: Callable  # (g_variables, x_s, x_t) -> x_bar [R, C, S, S, 3]


@functools.lru_cache(maxsize=2)
def _stage1_programs(g_model, d_model, opt_hparams: Tuple,
                     loss_config: ml_collections.FrozenConfigDict,
                     mesh: Mesh) -> _Programs:
  """The jitted programs of one (models, optimisers, losses, mesh): cached, so
  that further runs in the same process (folds, resumes) do not recompile."""
  g_tx, d_tx = _adams(*opt_hparams)
  config = ml_collections.ConfigDict({'loss': loss_config.as_configdict()})
  d_step, g_step = make_steps(config, g_model, d_model, g_tx, d_tx, mesh)
  return _Programs(_init_program(g_model, d_model, g_tx, d_tx, mesh), d_step,
                   g_step, reenactment_summary.reenact_program(g_model, mesh))


# --- Schedule and checks ------------------------------------------------------


def check_config(config: ml_collections.ConfigDict) -> None:
  """Fails at start, with the field named (config_checks.ConfigError), on
  values stage 1 cannot run, including a global batch that the devices and
  processes cannot split evenly."""
  config_checks.check_stage1(config, num_devices=jax.device_count(),
                             num_processes=jax.process_count())


def num_train_steps(config: ml_collections.ConfigDict,
                    num_examples: int) -> int:
  """config.train.num_steps if > 0, else num_epochs passes over the sources."""
  if config.train.num_steps > 0:
    return int(config.train.num_steps)
  per_epoch = max(1, math.ceil(num_examples / config.train.batch_size))
  return int(config.train.num_epochs * per_epoch)


def g_steps_at(step: int, total_steps: int,
               config: ml_collections.ConfigDict) -> int:
  """G updates in iteration `step` (0-based): 1 before the G boost, then
  config.train.g_steps_per_d_step (DESIGN.md §4)."""
  boost_from = math.ceil(config.train.g_boost_start * total_steps)
  return config.train.g_steps_per_d_step if step >= boost_from else 1


def is_time(step: int, every: int, total_steps: int) -> bool:
  """The one "is it time" predicate for logging, images and checkpoints:
  every `every` completed steps (never if every <= 0), and always on the last.
  """
  return step == total_steps or (every > 0 and step % every == 0)


def check_finite(metrics: Mapping[str, Any], step: int,
                 where: str = '') -> None:
  """Raises NonFiniteLossError naming every NaN/Inf term of `metrics`."""
  bad = {k: float(v) for k, v in metrics.items()
         if not np.all(np.isfinite(np.asarray(v)))}
  if bad:
    terms = ', '.join(f'{k}={v}' for k, v in sorted(bad.items()))
    raise NonFiniteLossError(
        f'Stage 1 stopped: non-finite {terms} at step {step}.{where}')


class _MetricsMean:
  """Running means of host metrics between two log steps."""

  def __init__(self):
    self.sums, self.count, self.since = {}, 0, time.perf_counter()

  def add(self, metrics: Mapping[str, Any]) -> None:
    for k, v in metrics.items():
      self.sums[k] = self.sums.get(k, 0.0) + float(v)
    self.count += 1

  def pop(self) -> Dict[str, float]:
    now = time.perf_counter()
    out = {k: v / max(self.count, 1) for k, v in self.sums.items()}
    out['steps_per_sec'] = self.count / max(now - self.since, 1e-9)
    self.sums, self.count, self.since = {}, 0, now
    return out


# --- The loop ------------------------------------------------------------------


def train_gan(config: ml_collections.ConfigDict, workdir: str, dataset,
              train_indices, *, init_checkpoint: Optional[str] = None
              ) -> GANState:
  """Stage 1 on `dataset`'s records `train_indices`; resumable.

  Resume order: workdir/checkpoints (latest), else `init_checkpoint` (another
  stage-1 run: G and the fitting D layers), else scratch. Writes checkpoints
  (every config.train.checkpoint_every steps and at the end; the grain
  iterator position with them), TensorBoard events in workdir/tensorboard and
  console logs; stops with NonFiniteLossError naming the step and term when a
  loss or gradient norm is NaN/Inf (no checkpoint is written after it). On a
  preemption (SIGTERM, or JAX's multi-host preemption sync point) it
  checkpoints the step it is at and raises preemption.Preempted.

  Args:
    config: the run's config.
    workdir: this run's folder.
    dataset: a records.PreparedDataset.
    train_indices: the records stage 1 may see (a fold's training records).
    init_checkpoint: optional path of another stage-1 run to start from.

  Returns:
    The final GANState (replicated over all devices).
  """
  check_config(config)
  train_indices = np.asarray(train_indices)
  if not len(train_indices):
    raise ValueError('train_gan: train_indices is empty.')
  is_chief = jax.process_index() == 0

  # --- Devices and models ---
  mesh = make_mesh()
  num_expressions = len(dataset.manifest['expression_classes'])
  identity_map = input_pipeline.identity_map(dataset, train_indices)
  num_identities = max(1, len(identity_map))  # SFEW: no identities at all.
  g_model = models.build_generator(config, bn_axis_name=AXIS)
  d_model = models.build_discriminator(config, num_expressions,
                                       num_identities)
  programs = _stage1_programs(g_model, d_model, _optimizer_hparams(config),
                              ml_collections.FrozenConfigDict(config.loss),
                              mesh)
  total_steps = num_train_steps(config, len(train_indices))
  meta = dict(dataset=dataset.manifest.get('name'),
              num_expressions=num_expressions, num_identities=num_identities,
              identity_map={str(k): int(v) for k, v in identity_map.items()},
              model=config.model.to_dict(), total_steps=total_steps)
  logging.info('Stage 1: %d records, Ne=%d, Ni=%d, %d steps of batch %d on %d '
               'devices (%d processes).', len(train_indices), num_expressions,
               num_identities, total_steps, config.train.batch_size,
               mesh.size, jax.process_count())

  # --- Input ---
  train_iter = input_pipeline.stage1_dataset(dataset, train_indices, config,
                                             seed=config.seed)

  # --- State: own checkpoint, else init checkpoint, else scratch ---
  key = jax.random.PRNGKey(config.seed)
  manager = checkpointing.make_manager(workdir, config.train.keep_checkpoints)
  if manager.latest_step() is not None:
    # Shapes and shardings only: nothing is initialised just to be replaced.
    abstract = jax.eval_shape(programs.init, key)
    state, saved_meta = checkpointing.restore(manager, abstract, train_iter)
    for name in ('num_expressions', 'num_identities'):
      if saved_meta.get(name) != meta[name]:
        raise checkpointing.CheckpointMismatchError(
            f'{manager.directory} holds a run with {name}='
            f'{saved_meta.get(name)}, this one has {meta[name]}: use another '
            '--workdir.')
    logging.info('Resumed from %s at step %d.', manager.directory,
                 int(jax.device_get(state.step)))
  else:
    state = programs.init(key)
    if init_checkpoint:
      state = checkpointing.warm_start(state, init_checkpoint, mesh)
  start_step = int(jax.device_get(state.step))

  # --- Update programs, metrics, summaries ---
  d_step, g_step = programs.d_step, programs.g_step
  writer = metric_writers.create_writer(os.path.join(workdir, 'tensorboard'),
                                        is_chief=is_chief, prefix='stage1')
  summary = None
  if config.train.image_summary_every > 0:
    summary = reenactment_summary.ReenactmentSummary(
        config, dataset, train_indices, programs.reenact, mesh)
  # On CPU, a queued multi-device all-reduce can deadlock XLA's rendezvous:
  # wait for each step there (GPU/TPU keep the asynchronous dispatch).
  await_each_step = jax.default_backend() == 'cpu' and mesh.size > 1
  means = _MetricsMean()

  def record(step, device_metrics):
    host = jax.device_get(device_metrics)
    check_finite(host, step, f' Last good checkpoint: step '
                 f'{manager.latest_step()} in {manager.directory}.')
    means.add(host)

  # --- Loop ---
  bar = tqdm.tqdm(total=total_steps, initial=start_step, disable=not is_chief,
                  desc='stage 1', unit='step', dynamic_ncols=True)
  # SIGTERM (one process) or JAX's preemption sync point (several): checkpoint
  # this step, then raise preemption.Preempted (main exits with status 143).
  watcher = preemption.Watcher(
      manager, grace_secs=config.train.get('preemption_grace_secs', 9.0),
      last_checkpoint=manager.latest_step)
  pending = None  # The last step's metrics, checked one step late.
  try:
    with watcher:
      for step in range(start_step, total_steps):
        batch = shard_batch(next(train_iter), mesh)
        with jax.transfer_guard('disallow'):
          state, d_metrics = d_step(state, batch)
          if await_each_step:
            jax.block_until_ready(state)
          for _ in range(g_steps_at(step, total_steps, config)):
            state, g_metrics = g_step(state, batch)  # Same batch (see above).
            if await_each_step:
              jax.block_until_ready(state)
        if pending is not None:
          record(*pending)
        done = step + 1
        pending = (done, {**d_metrics, **g_metrics})
        bar.update(1)

        stop = watcher.should_stop(done)  # Every step, on every process.
        log_now = is_time(done, config.train.log_every, total_steps)
        save_now = stop or is_time(done, config.train.checkpoint_every,
                                   total_steps)
        image_now = summary is not None and not stop and is_time(
            done, config.train.image_summary_every, total_steps)
        if log_now or save_now or image_now:
          record(*pending)  # Nothing is written before its step is checked.
          pending = None
        if log_now:
          scalars = means.pop()
          scalars['g_steps_per_d_step'] = g_steps_at(step, total_steps, config)
          writer.write_scalars(done, scalars)
          bar.set_postfix(d=f'{scalars["d_total"]:.3g}',
                          g=f'{scalars["g_total"]:.3g}', refresh=False)
        if image_now:
          writer.write_images(done,
                              {'reenactment': summary(_g_variables(state))})
        if save_now:
          checkpointing.save(manager, done, state, train_iter, meta)
        if stop:
          manager.wait_until_finished()
          raise preemption.Preempted(done, str(manager.directory))
      if pending is not None:
        record(*pending)
      if watcher.requested:  # After the last step: its checkpoint is there.
        manager.wait_until_finished()
        raise preemption.Preempted(total_steps, str(manager.directory))
  finally:
    bar.close()
    manager.wait_until_finished()
    writer.close()
  manager.close()
  # Equal fingerprints = bitwise equal states (and, with several processes,
  # proof that every process holds the same replica).
  fingerprint = distributed.fingerprint(state)
  logging.info('Stage 1 finished at step %d; state fingerprint %s.',
               total_steps, fingerprint[:16])
  distributed.check_processes_agree(fingerprint, 'the stage-1 state')
  return state
