"""Stage-1 state and update programs (DESIGN.md §3-§4).

Paper names, used throughout stage 1: x_s (source face: its expression y_e_s
is to be shown), x_t (target face: its identity y_i_t is to be kept), x_tg
(real photo of the target with the source expression), x_bar =
Gde(Ges(x_s), Get(x_t)). G = {Ges, Get, Gde}; D has the heads De (Ne + 1
logits, the last "fake") and Di (Ni logits).

Reads top to bottom: the state pytree, then the per-device updates, each
mapped over the 1-D 'data' mesh axis with `jax.shard_map` and jitted with the
state donated: `iteration` (a D update then a G update, what the training
loop runs every step), `d_step` and `g_step` (each alone; the loop runs
g_step for the G boost's extra G updates). relgan_jax/stage1/train.py is the loop.

Conventions:
  * `GANState.step` counts iterations: one batch = one D update, followed by
    one G update, or `g_steps_per_d_step` G updates once the G boost has
    started. The extra G updates reuse the iteration's batch.
  * Randomness: the current networks draw no random numbers (GroupNorm, no
    dropout); the optional photometric jitter (config.augment.stage1_gain,
    stage1_shift) does. `state.rng` is the base key, checkpointed with
    everything else; a step that needs randomness derives its key as
    `fold_in(fold_in(state.rng, state.step), lax.axis_index('data'))` and
    its own stream tag, never by splitting and storing, so a resumed run
    draws the same numbers.
  * Batches arrive as host-local uint8/int32 numpy dicts (input_pipeline's
    stage-1 batches) and become global arrays sharded P('data'); images are
    normalised to [-1, 1] on the device.
"""

import functools
from typing import Any, Callable, Dict, Mapping, NamedTuple, Optional, Tuple

import flax
import jax
from jax import lax
import jax.numpy as jnp
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import ml_collections
import numpy as np
import optax

from relgan_jax.data import input_pipeline
from relgan_jax.data import photometric
from relgan_jax.model import layers
from relgan_jax.model import losses
from relgan_jax.model import models
from relgan_jax.stage1 import expression_reader

AXIS = 'data'
BATCH_KEYS = ('x_s', 'x_t', 'x_tg', 'y_e_s', 'y_i_t')
Batch = Dict[str, Any]
Metrics = Dict[str, jnp.ndarray]


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
    reader: the frozen expression reader's variables when
      config.loss.lambda_reader > 0 (stage1/expression_reader.py), else {}.
    g_ema: an exponential moving average of g_params when
      train.g_ema_decay > 0 (what everything after training uses:
      `g_variables`), else {}.
  """
  step: jnp.ndarray
  g_params: Any
  g_batch_stats: Any
  d_params: Any
  g_opt_state: Any
  d_opt_state: Any
  rng: jnp.ndarray
  reader: Any = flax.struct.field(default_factory=dict)
  g_ema: Any = flax.struct.field(default_factory=dict)


def optimizer_hparams(config: ml_collections.ConfigDict) -> Tuple:
  t = config.train
  return (float(t.g_lr), float(t.d_lr), float(t.b1), float(t.b2))


def adams(g_lr, d_lr, b1, b2):
  return optax.adam(g_lr, b1=b1, b2=b2), optax.adam(d_lr, b1=b1, b2=b2)


def make_optimizers(config: ml_collections.ConfigDict):
  """(g_tx, d_tx): two separate Adams (lr 1e-4, b1 0.5 by default)."""
  return adams(*optimizer_hparams(config))


def make_mesh(devices=None) -> Mesh:
  """A 1-D mesh over `devices` (default: all devices of all processes)."""
  devices = jax.devices() if devices is None else devices
  return Mesh(np.asarray(devices), (AXIS,))


def create_state(rng: jnp.ndarray, g_model: models.Generator,
                 d_model: models.Discriminator, g_tx, d_tx,
                 reader_model: Optional[models.CNNBaseline] = None,
                 g_ema: bool = False) -> GANState:
  """Fresh parameters and optimiser states (call under jit); with
  `reader_model`, an untrained expression reader too (its key does not
  change G's and D's); with `g_ema`, G's moving average (starting at G)."""
  reader = ({} if reader_model is None else
            expression_reader.init(reader_model, jax.random.fold_in(rng, 1)))
  rng, g_key, d_key = jax.random.split(rng, 3)
  x = jnp.zeros((1, g_model.image_size, g_model.image_size, 3), jnp.float32)
  g_vars = g_model.init(g_key, x, x)
  d_params = d_model.init(d_key, x)['params']
  return GANState(
      step=jnp.zeros((), jnp.int32), g_params=g_vars['params'],
      g_batch_stats=g_vars.get('batch_stats', {}), d_params=d_params,
      g_opt_state=g_tx.init(g_vars['params']), d_opt_state=d_tx.init(d_params),
      rng=rng, reader=reader, g_ema=g_vars['params'] if g_ema else {})


def init_program(g_model, d_model, g_tx, d_tx, mesh: Mesh,
                 reader_model=None, g_ema: bool = False) -> Callable:
  """create_state jitted for `mesh` (replicated), compiled as an initialiser
  (layers.init_compiler_options)."""
  return jax.jit(functools.partial(create_state, g_model=g_model,
                                   d_model=d_model, g_tx=g_tx, d_tx=d_tx,
                                   reader_model=reader_model, g_ema=g_ema),
                 out_shardings=NamedSharding(mesh, P()),
                 compiler_options=layers.init_compiler_options(
                     mesh.devices.flat[0]))


def init_state(config: ml_collections.ConfigDict, g_model, d_model, g_tx,
               d_tx, mesh: Mesh, reader_model=None) -> GANState:
  """A fresh GANState, replicated over `mesh` (with `reader_model`, holding an
  untrained expression reader)."""
  return init_program(g_model, d_model, g_tx, d_tx, mesh, reader_model,
                      g_ema=config.train.g_ema_decay > 0)(
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


def g_variables(state, *, averaged: bool = True) -> Dict[str, Any]:
  """G's flax variables (params, plus batch_stats when G has BatchNorm) from
  a GANState or from the state tree checkpointing.load_state_tree reads:
  the moving average of G's params where the run keeps one (the G that
  exports, reenactments and grids use), unless `averaged` is False (the G
  being trained)."""
  if isinstance(state, GANState):
    params, batch_stats, ema = (state.g_params, state.g_batch_stats,
                                state.g_ema)
  else:
    params, batch_stats, ema = (state['g_params'], state.get('g_batch_stats'),
                                state.get('g_ema'))
  variables = {'params': ema if averaged and ema else params}
  if batch_stats:
    variables['batch_stats'] = batch_stats
  return variables


def _reenact(g_model, variables, *args, method=None):
  """G applied to `args` in training mode (its __call__, x_bar = G(x_s, x_t),
  or `method`): (output, updated BatchNorm stats or {})."""
  if 'batch_stats' in variables:
    out, mutated = g_model.apply(variables, *args, train=True, method=method,
                                 mutable=['batch_stats'])
    return out, mutated['batch_stats']
  return g_model.apply(variables, *args, train=True, method=method), {}


def _varying(tree):
  # Mark replicated params as per-device before differentiating: their
  # gradients are then per-device too, and pmean below averages them (with
  # invariant params, shard_map would already sum them over devices).
  return jax.tree.map(lambda p: lax.pcast(p, AXIS, to='varying'), tree)


# fold_in tag of the photometric jitter's key (the only random draw of the
# update programs today; a later one takes another tag).
_PHOTOMETRIC_STREAM = 7


def _jittered(state: GANState, batch: Batch,
              jitter: Tuple[float, float]) -> Batch:
  """The batch with config.augment's photometric jitter (gain, shift)
  applied to x_s, x_t and x_tg (relgan_jax/data/photometric.py); unchanged
  when both are 0. Keyed by the step and the device (module doc)."""
  gain, shift = jitter
  if gain <= 0 and shift <= 0:
    return batch
  key = jax.random.fold_in(jax.random.fold_in(state.rng, state.step),
                           lax.axis_index(AXIS))
  return photometric.jitter_triplets(
      jax.random.fold_in(key, _PHOTOMETRIC_STREAM), batch, gain=gain,
      shift=shift)


def _inputs(batch: Batch):
  """x_s, x_t in [-1, 1] (float32)."""
  normalize = input_pipeline.normalize
  return normalize(batch['x_s']), normalize(batch['x_t'])


class GForward(NamedTuple):
  """G's forward pass in training mode, as a function of G's params.

  x_bar: the reenacted faces; contrast: the expression-contrast term on f(e)
  (0 when λ5 = 0); vjp: pulls (dL/dx_bar, dL/dcontrast) back to G's
  (device-varying) params; batch_stats: new BatchNorm statistics (or {}).
  """
  x_bar: jnp.ndarray
  contrast: jnp.ndarray
  vjp: Callable
  batch_stats: Any


def _g_forward(state: GANState, batch: Batch, x_s, x_t, *, g_model,
               loss_config) -> GForward:
  """x_bar = G(x_s, x_t) and, when λ5 > 0, the expression-contrast term over
  f_e of [x_s; x_tg] (both of expression y_e_s, different people)."""
  with_contrast = loss_config.lambda_fe_contrast > 0

  def forward(g_params):
    variables = {**g_variables(state, averaged=False), 'params': g_params}
    if not with_contrast:
      x_bar, stats = _reenact(g_model, variables, x_s, x_t)
      return (x_bar, jnp.zeros((), jnp.float32)), stats
    x_tg = input_pipeline.normalize(batch['x_tg'])
    (x_bar, f_e), stats = _reenact(g_model, variables, x_s, x_t, x_tg,
                                   method=g_model.reenact_and_encode)
    labels = jnp.concatenate([batch['y_e_s'], batch['y_e_s']])
    contrast = losses.expression_contrast(
        f_e, labels, loss_config.fe_contrast_temperature, axis_name=AXIS)
    return (x_bar, contrast), stats

  (x_bar, contrast), vjp, stats = jax.vjp(
      forward, _varying(state.g_params), has_aux=True)
  return GForward(x_bar, contrast, vjp, stats)


def _d_update(state: GANState, batch: Batch, x_s, x_t, x_bar, *, d_model,
              d_tx, loss_config) -> Tuple[GANState, Metrics]:
  """L_D on (x_bar, x_s, x_t), differentiated w.r.t. D's params only, and
  the Adam update of D (x_bar is a constant here)."""
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


def _g_objective(x_bar, d_params, batch: Batch, d_scale, saliency, *,
                 d_model, loss_config):
  """L_G's terms but the reader's as a function of x_bar (D's params and
  the pixel term's saliency fixed): (their sum, terms)."""
  de, di = d_model.apply({'params': d_params}, x_bar)
  return losses.g_loss(de, di, x_bar, input_pipeline.normalize(batch['x_tg']),
                       batch['y_e_s'], batch['y_i_t'], loss_config, d_scale,
                       x_t=input_pipeline.normalize(batch['x_t']),
                       saliency=saliency)


def _reader_pass(x_bar, reader, batch: Batch, *, reader_model, loss_config):
  """The reader R's term (λ6), its gradient w.r.t. x_bar, and R's saliency
  of x_tg (None unless config.loss.pixel_change_saliency > 0), from one pass
  of R over [x_bar in x_tg's frame; x_tg] and one pull-back through it.

  The pull-back carries the term's cotangent on x_bar's half and, on
  x_tg's half, that of log p(y_e_s | x_tg) (the term's is zero there: x_tg's
  activations are its constant target), so the one backward pass gives
  both the term's gradient and the saliency (|∂ log p / ∂x_tg|,
  expression_reader.saliency_of)."""
  x_tg = input_pipeline.normalize(batch['x_tg'])
  b = x_bar.shape[0]

  def read(x_bar, x_tg):
    shown = losses.reader_view(x_bar, x_tg, loss_config.reader_border)
    return expression_reader.read(reader_model, reader,
                                  jnp.concatenate([shown, x_tg]))

  (logits, blocks), pull_back = jax.vjp(read, x_bar, x_tg)
  term, d_blocks = jax.value_and_grad(
      lambda blocks: losses.reader_feature_loss([a[:b] for a in blocks],
                                                [a[b:] for a in blocks]))(
                                                    blocks)
  with_saliency = loss_config.pixel_change_saliency > 0
  d_logits = jnp.zeros_like(logits)
  if with_saliency:
    d_logits = d_logits.at[b:].set(expression_reader.log_likelihood_cotangent(
        logits[b:], batch['y_e_s']).astype(logits.dtype))
  d_x_bar, d_x_tg = pull_back((d_logits, d_blocks))
  return (term, d_x_bar,
          expression_reader.saliency_of(d_x_tg) if with_saliency else None)


def ema_weight(step: jnp.ndarray, decay: float) -> jnp.ndarray:
  """The moving average's weight on its past at a G update after `step`
  D updates: min(decay, (1 + step) / (10 + step)). The warm-up (that of
  tf.train.ExponentialMovingAverage's num_updates) lets the average leave
  the random initialisation within the first iterations."""
  step = step.astype(jnp.float32)
  return jnp.minimum(decay, (1.0 + step) / (10.0 + step))


def _g_update(state: GANState, batch: Batch, g_forward, *, d_model,
              reader_model, g_tx, loss_config,
              g_ema_decay: float) -> Tuple[GANState, Metrics]:
  """The G update from G's forward pass `g_forward` (= _g_forward(state)):
  dL_G/dx_bar against the state's D, pulled back through G, then Adam, then
  G's moving average (when the state keeps one)."""
  d_scale = losses.d_terms_scale(state.step, loss_config.d_terms_ramp_steps)
  x_bar, saliency = g_forward.x_bar, None
  if loss_config.lambda_reader > 0:
    reader_term, dx_reader, saliency = _reader_pass(
        x_bar, state.reader, batch, reader_model=reader_model,
        loss_config=loss_config)
  (_, metrics), dx_bar = jax.value_and_grad(_g_objective, has_aux=True)(
      x_bar, state.d_params, batch, d_scale, saliency, d_model=d_model,
      loss_config=loss_config)
  if loss_config.lambda_reader > 0:
    # + λ6·R's term, ramping up with the D-judged terms' (reader_warmup).
    weight = ((d_scale if loss_config.reader_warmup else 1.0)
              * loss_config.lambda_reader)
    dx_bar = dx_bar + weight * dx_reader
    metrics['g_reader'] = reader_term
    metrics['g_total'] = metrics['g_total'] + weight * reader_term
  # L_G = (the terms above) + λ5·contrast: the contrast's cotangent is λ5
  # (written from `contrast` so that it has the output's device-varying type).
  lambda_contrast = loss_config.lambda_fe_contrast
  (grads,) = g_forward.vjp((dx_bar,
                            g_forward.contrast * 0.0 + lambda_contrast))
  grads = lax.pmean(grads, AXIS)
  metrics = lax.pmean(metrics, AXIS)
  if lambda_contrast > 0:
    metrics['g_fe_contrast'] = lax.pmean(g_forward.contrast, AXIS)
    metrics['g_total'] = (metrics['g_total']
                          + lambda_contrast * metrics['g_fe_contrast'])
  metrics['g_grad_norm'] = optax.tree.norm(grads)
  metrics['g_d_terms_scale'] = d_scale
  updates, g_opt_state = g_tx.update(grads, state.g_opt_state, state.g_params)
  g_params = optax.apply_updates(state.g_params, updates)
  new_state = state.replace(g_params=g_params, g_opt_state=g_opt_state)
  if state.g_ema:
    w = ema_weight(state.step, g_ema_decay)
    new_state = new_state.replace(g_ema=jax.tree.map(
        lambda avg, p: w * avg + (1.0 - w) * p, state.g_ema, g_params))
  if state.g_batch_stats:
    # BatchNorm averaged its statistics over AXIS; pmean makes that explicit.
    new_state = new_state.replace(
        g_batch_stats=lax.pmean(g_forward.batch_stats, AXIS))
  return new_state, metrics


def d_step_fn(state: GANState, batch: Batch, *, g_model, d_model, d_tx,
              loss_config, jitter: Tuple[float, float] = (0.0, 0.0)
              ) -> Tuple[GANState, Metrics]:
  """One D update on this device's share of the batch (inside shard_map).

  L_D = λ1·CE(De(x_bar), fake) + λ3·CE(De(x_s), y_e_s)
        + λ4·CE(Di(x_t), y_i_t),
  differentiated w.r.t. D's params only; G runs forward (training mode) and
  its BatchNorm statistics, if any, are not updated here. `jitter`: the
  photometric jitter's (gain, shift), as in every update program.
  """
  batch = _jittered(state, batch, jitter)
  x_s, x_t = _inputs(batch)
  x_bar, _ = _reenact(g_model, g_variables(state, averaged=False), x_s, x_t)
  return _d_update(state, batch, x_s, x_t, x_bar, d_model=d_model, d_tx=d_tx,
                   loss_config=loss_config)


def g_step_fn(state: GANState, batch: Batch, *, g_model, d_model, g_tx,
              loss_config, reader_model=None, g_ema_decay: float = 0.0,
              jitter: Tuple[float, float] = (0.0, 0.0)
              ) -> Tuple[GANState, Metrics]:
  """One G update on this device's share of the batch (inside shard_map).

  L_G = λ1·L_adv + λ2·|x_bar − x_tg|_1 + λ3·CE(De(x_bar), y_e_s)
        + λ4·CE(Di(x_bar), y_i_t) [+ λ5·SupCon(f_e of x_s, x_tg)]
        [+ λ6·|R(x_bar) − R(x_tg)|],
  differentiated w.r.t. G's params only (the contrast reaches Ges only; the
  reader R is frozen); then G's moving average, if the state keeps one, takes
  a step towards the new params (weight `ema_weight`). `jitter`: the
  photometric jitter's (gain, shift), as in every update program.
  """
  batch = _jittered(state, batch, jitter)
  g_forward = _g_forward(state, batch, *_inputs(batch), g_model=g_model,
                         loss_config=loss_config)
  return _g_update(state, batch, g_forward, d_model=d_model,
                   reader_model=reader_model, g_tx=g_tx,
                   loss_config=loss_config, g_ema_decay=g_ema_decay)


def iteration_fn(state: GANState, batch: Batch, *, g_model, d_model, g_tx,
                 d_tx, loss_config, reader_model=None, g_ema_decay: float = 0.0,
                 jitter: Tuple[float, float] = (0.0, 0.0)
                 ) -> Tuple[GANState, Metrics]:
  """d_step_fn, then g_step_fn, on the same batch, with G's forward pass run
  once instead of twice.

  The D update does not touch G's params or BatchNorm statistics, so the
  G step's forward pass would recompute exactly the x_bar the D step used:
  here it is computed once, with its VJP, and the G update pulls
  dL_G/dx_bar (against the freshly updated D, as in g_step_fn) back through
  it. Same maths (tests/test_gan_steps.py), 3 instead of 4 G-forward costs
  per iteration; G dominates the FLOPs (DESIGN.md §2). Both updates see
  the same photometric jitter (`jitter`: (gain, shift)).
  """
  batch = _jittered(state, batch, jitter)
  x_s, x_t = _inputs(batch)
  g_forward = _g_forward(state, batch, x_s, x_t, g_model=g_model,
                         loss_config=loss_config)
  state, d_metrics = _d_update(state, batch, x_s, x_t, g_forward.x_bar,
                               d_model=d_model, d_tx=d_tx,
                               loss_config=loss_config)
  state, g_metrics = _g_update(state, batch, g_forward, d_model=d_model,
                               reader_model=reader_model, g_tx=g_tx,
                               loss_config=loss_config,
                               g_ema_decay=g_ema_decay)
  return state, {**d_metrics, **g_metrics}


# XLA:CPU's default copy insertion copies every Adam first moment before its
# in-place update (the parameter update re-reads the old moment); its region
# analysis proves the copies unneeded (92 fewer ops per iteration at width
# 0.25, ~4 % of a B8 32x32 step). Only an analysis: the program computes the
# same values.
CPU_COMPILER_OPTIONS = {'xla_cpu_copy_insertion_use_region_analysis': True}


def _map_over_mesh(fn: Callable, mesh: Mesh) -> Callable:
  """jit(shard_map(fn)) with the state replicated, the batch split, and the
  state's buffers donated."""
  mapped = jax.shard_map(fn, mesh=mesh, in_specs=(P(), P(AXIS)),
                         out_specs=(P(), P()))
  on_cpu = layers.on_cpu(mesh.devices.flat[0])
  return jax.jit(mapped, donate_argnums=0,
                 compiler_options=CPU_COMPILER_OPTIONS if on_cpu else None)


class Steps(NamedTuple):
  """The jitted, mesh-mapped update programs: (state, batch) -> (state, m).

  iteration: one D update then one G update (iteration_fn), what the loop
    runs every step; d_step, g_step: each update alone (the loop runs g_step
    for the G boost's extra G updates).
  """
  iteration: Callable
  d_step: Callable
  g_step: Callable


def make_steps(config: ml_collections.ConfigDict, g_model, d_model, g_tx,
               d_tx, mesh: Mesh, *, total_steps: int = 0,
               decorate: Callable = lambda f: f,
               reader_model: Optional[models.CNNBaseline] = None) -> Steps:
  """The jitted, mesh-mapped update programs (compiled on first call).

  Args:
    config: the run's config (config.loss gives the λs and the warm-up of
      G's D-judged terms, as a fraction of `total_steps`; config.train
      g_ema_decay, G's moving average where the state keeps one;
      config.augment.stage1_gain and stage1_shift, the photometric jitter).
    g_model, d_model: G and D (G built with bn_axis_name=AXIS).
    g_tx, d_tx: the two optimisers.
    mesh: the 1-D 'data' mesh.
    total_steps: stage 1's length in iterations (for the warm-up).
    decorate: applied to each per-device function before mapping (tests use
      chex.assert_max_traces).
    reader_model: the expression reader's network (needed when
      config.loss.lambda_reader > 0; its variables are the state's).
  """
  loss_config = config.loss.to_dict()
  loss_config['d_terms_ramp_steps'] = losses.warmup_steps(config.loss,
                                                          total_steps)
  if reader_model is None and (loss_config['lambda_reader'] > 0
                               or loss_config['pixel_change_saliency'] > 0):
    raise ValueError('config.loss.lambda_reader > 0 (and so '
                     'pixel_change_saliency > 0) needs the reader_model.')
  common = dict(g_model=g_model, d_model=d_model,
                jitter=photometric.ranges(config),
                loss_config=ml_collections.FrozenConfigDict(loss_config))
  g_common = dict(g_tx=g_tx, reader_model=reader_model,
                  g_ema_decay=float(config.train.g_ema_decay), **common)
  programs = (functools.partial(decorate(iteration_fn), d_tx=d_tx,
                                **g_common),
              functools.partial(decorate(d_step_fn), d_tx=d_tx, **common),
              functools.partial(decorate(g_step_fn), **g_common))
  return Steps(*(_map_over_mesh(fn, mesh) for fn in programs))
