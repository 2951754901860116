"""Stage 1: adversarial reenactment training of G and D (DESIGN.md §3-§4).

`train_gan` is the loop: input, init/resume, the update programs of
relgan_jax/stage1/gan_steps.py (where the paper's names x_s, x_t, x_tg, x_bar and
the state pytree are explained), metrics, image summaries, checkpoints and
preemption. Before it: the cached programs of one run, the schedule (steps,
G boost) and the checks.
"""

import functools
import math
import os
import sys
import time
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

from absl import logging
import jax
import ml_collections
import numpy as np
import tqdm

from relgan_jax import config_checks
from relgan_jax.data import input_pipeline
from relgan_jax.data import photometric
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import distributed
from relgan_jax.stage1 import expression_reader
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import metric_writers
from relgan_jax.stage1 import preemption
from relgan_jax.stage1 import reenactment


class NonFiniteLossError(FloatingPointError):
  """A loss term or gradient norm became NaN/Inf; training stopped."""


class _Programs(NamedTuple):
  init: Callable  # rng -> GANState
  steps: gan_steps.Steps
  reenact: Callable  # (g_variables, x_s, x_t) -> x_bar [R, C, S, S, 3]


@functools.lru_cache(maxsize=2)
def _stage1_programs(g_model, d_model, reader_model, opt_hparams: Tuple,
                     loss_config: ml_collections.FrozenConfigDict,
                     mesh, total_steps: int, g_ema_decay: float,
                     jitter: Tuple[float, float]) -> _Programs:
  """The jitted programs of one (models, optimisers, losses, mesh, G's
  moving average, photometric jitter (gain, shift)): cached, so that further
  runs in the same process (folds, resumes) do not recompile."""
  g_tx, d_tx = gan_steps.adams(*opt_hparams)
  gain, shift = jitter
  config = ml_collections.ConfigDict({
      'loss': loss_config.as_configdict(),
      'train': {'g_ema_decay': g_ema_decay},
      'augment': {'stage1_gain': gain, 'stage1_shift': shift}})
  return _Programs(gan_steps.init_program(g_model, d_model, g_tx, d_tx, mesh,
                                          reader_model,
                                          g_ema=g_ema_decay > 0),
                   gan_steps.make_steps(config, g_model, d_model, g_tx, d_tx,
                                        mesh, total_steps=total_steps,
                                        reader_model=reader_model),
                   reenactment.reenact_program(g_model, mesh))


def _train_reader(config, reader_model, variables, dataset, train_indices,
                  mesh, await_each_step: bool):
  """The expression reader trained on stage 1's records (its own data order,
  seed + 1), before stage 1's first step."""
  steps = expression_reader.num_steps(config, len(train_indices))
  logging.info('Expression reader: %d steps on %d records.', steps,
               len(train_indices))
  started = time.monotonic()
  stream = input_pipeline.stage1_dataset(dataset, train_indices, config,
                                         seed=config.seed + 1)
  batches = (gan_steps.shard_batch(b, mesh) for b in stream)
  variables = expression_reader.train(
      config, reader_model, variables, batches, steps,
      await_each_step=await_each_step)
  logging.info('Expression reader trained in %.0f s.',
               time.monotonic() - started)
  return variables


# --- Schedule and checks ------------------------------------------------------


def check_config(config: ml_collections.ConfigDict) -> None:
  """Fails at start, with the field named (cli.ConfigError), on
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


def _stderr_is_tty() -> bool:
  """stderr redraws a progress bar in place: a terminal, or a notebook."""
  if 'ipykernel' in sys.modules:  # Jupyter/Colab: \r redraws the bar.
    return True
  try:
    return sys.stderr.isatty()
  except (AttributeError, ValueError):  # Replaced or closed stderr.
    return False


class _ProgressLog:
  """Without a progress bar (stderr is not a terminal): one log line
  'stage 1: step N of T (x steps/s)' at most every `every_secs` seconds."""

  def __init__(self, total: int, start: int, *, enabled: bool,
               every_secs: float = 60.0):
    self.total, self.enabled, self.every = total, enabled, every_secs
    self.last_time, self.last_step = time.monotonic(), start

  def __call__(self, step: int) -> None:
    now = time.monotonic()
    if not self.enabled or now - self.last_time < self.every:
      return
    rate = (step - self.last_step) / (now - self.last_time)
    logging.info('stage 1: step %d of %d (%.2f steps/s)', step, self.total,
                 rate)
    self.last_time, self.last_step = now, step


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


# --- The loop ----------------------------------------------------------------


def train_gan(config: ml_collections.ConfigDict, workdir: str, dataset,
              train_indices, *, init_checkpoint: Optional[str] = None
              ) -> gan_steps.GANState:
  """Stage 1 on `dataset`'s records `train_indices`; resumable.

  Resume order: workdir/checkpoints (latest), else `init_checkpoint` (another
  stage-1 run: G and the fitting D layers), else scratch. Writes checkpoints
  (every config.train.checkpoint_every steps and at the end; the grain
  iterator position with them), TensorBoard events in workdir/tensorboard and
  console logs; stops with NonFiniteLossError naming the step and term when a
  loss or gradient norm is NaN/Inf (no checkpoint is written after it). On a
  preemption (SIGTERM, or JAX's multi-host preemption sync point) or Ctrl-C
  it checkpoints the step it is at and raises preemption.Preempted.

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
  mesh = gan_steps.make_mesh()
  num_expressions = len(dataset.manifest['expression_classes'])
  identity_map = input_pipeline.identity_map(dataset, train_indices)
  num_identities = max(1, len(identity_map))  # SFEW: no identities at all.
  g_model = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
  d_model = models.build_discriminator(config, num_expressions,
                                       num_identities)
  total_steps = num_train_steps(config, len(train_indices))
  reader_model = expression_reader.build_model(config, num_expressions)
  programs = _stage1_programs(g_model, d_model, reader_model,
                              gan_steps.optimizer_hparams(config),
                              ml_collections.FrozenConfigDict(config.loss),
                              mesh, total_steps,
                              float(config.train.g_ema_decay),
                              photometric.ranges(config))
  meta = dict(dataset=dataset.manifest.get('name'),
              num_expressions=num_expressions, num_identities=num_identities,
              identity_map={str(k): int(v) for k, v in identity_map.items()},
              model=config.model.to_dict(), total_steps=total_steps)
  logging.info('Stage 1: %d records, Ne=%d, Ni=%d, %d steps of batch %d on %d '
               'devices (%d processes).', len(train_indices), num_expressions,
               num_identities, total_steps, config.train.batch_size,
               mesh.size, jax.process_count())

  # On CPU, a queued multi-device all-reduce can deadlock XLA's rendezvous:
  # wait for each step there (GPU/TPU keep the asynchronous dispatch).
  await_each_step = jax.default_backend() == 'cpu' and mesh.size > 1

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
    if reader_model is not None:  # Trained on this run's records, then frozen.
      state = state.replace(reader=_train_reader(
          config, reader_model, state.reader, dataset, train_indices, mesh,
          await_each_step))
  start_step = int(jax.device_get(state.step))

  # --- Update programs, metrics, summaries ---
  iteration, g_step = programs.steps.iteration, programs.steps.g_step
  writer = metric_writers.create_writer(os.path.join(workdir, 'tensorboard'),
                                        is_chief=is_chief, prefix='stage1')
  summary = None
  if config.train.image_summary_every > 0:
    summary = reenactment.ReenactmentSummary(
        config, dataset, train_indices, programs.reenact, mesh)
  means = _MetricsMean()

  def record(step, device_metrics):
    host = jax.device_get(device_metrics)
    check_finite(host, step, f' Last good checkpoint: step '
                 f'{manager.latest_step()} in {manager.directory}.')
    means.add(host)

  # --- Loop ---
  # A progress bar on a terminal only: in a log file (not a TTY) its every
  # update would be a line; there a progress line is logged every minute.
  bar = tqdm.tqdm(total=total_steps, initial=start_step,
                  disable=not (is_chief and _stderr_is_tty()),
                  desc='stage 1', unit='step', dynamic_ncols=True)
  progress = _ProgressLog(total_steps, start_step, enabled=is_chief and
                          bar.disable)
  # SIGTERM or Ctrl-C (one process) or JAX's preemption sync point (several):
  # checkpoint this step, then raise preemption.Preempted (main exits with
  # status 143, 130 for Ctrl-C).
  watcher = preemption.Watcher(
      manager, grace_secs=config.train.preemption_grace_secs,
      last_checkpoint=manager.latest_step)
  pending = None  # The last step's metrics, checked one step late.
  try:
    with watcher:
      for step in range(start_step, total_steps):
        batch = gan_steps.shard_batch(next(train_iter), mesh)
        with jax.transfer_guard('disallow'):
          state, metrics = iteration(state, batch)  # D, then G.
          if await_each_step:
            jax.block_until_ready(state)
          for _ in range(g_steps_at(step, total_steps, config) - 1):
            state, g_metrics = g_step(state, batch)  # Same batch (see above).
            metrics = {**metrics, **g_metrics}
            if await_each_step:
              jax.block_until_ready(state)
        if pending is not None:
          record(*pending)
        done = step + 1
        pending = (done, metrics)
        bar.update(1)
        progress(done)

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
          grid = summary(gan_steps.g_variables(state))
          writer.write_images(done, {'reenactment': grid})
        if save_now:
          checkpointing.save(manager, done, state, train_iter, meta)
        if stop:
          manager.wait_until_finished()
          raise preemption.Preempted(done, str(manager.directory),
                                     watcher.signum)
      if pending is not None:
        record(*pending)
      if watcher.requested:  # After the last step: its checkpoint is there.
        manager.wait_until_finished()
        raise preemption.Preempted(total_steps, str(manager.directory),
                                   watcher.signum)
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
