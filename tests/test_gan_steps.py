"""Stage-1 update programs: what each changes, the fused iteration equals a D
step then a G step, 1 vs 2 devices, retracing."""

import functools
import re

import chex
import compile_events
import jax
import jax.numpy as jnp
from jax.sharding import NamedSharding, PartitionSpec as P
import numpy as np
import optax

from configs import tiny
from relgan_jax.data import photometric
from relgan_jax.model import models
from relgan_jax.model import losses
from relgan_jax.stage1 import expression_reader
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import train

NE, NI, B = 3, 4, 8


def _config(conv_impl='xla'):
  """The tiny config; conv_impl='auto' is what a CPU run picks: the CPU
  formulation of the layers (custom VJPs), which the 1- vs 2-device and
  in-place tests run inside the data-parallel programs (the others, and the
  BatchNorm 1- vs 2-device test, run the plain layers of GPUs and TPUs)."""
  config = tiny.get_config()
  config.model.conv_impl = conv_impl
  # Gradients in [-1, 1] pixel units: the 1- vs 2-device comparisons' round-off
  # tolerances are set for their size (grey-level units scale the gradients,
  # and the round-off of cancelling sums such as a bias before a norm, by 127.5).
  config.loss.pixel_scale = 1.0
  config.loss.lambda_fe_contrast = 1.0  # On, at the same scale.
  config.loss.pixel_change_weight = 4.0  # The weighted pixel term (reads x_t).
  config.train.g_boost_start = 0.5
  config.train.g_steps_per_d_step = 2
  return config


def _batch(seed):
  rng = np.random.default_rng(seed)
  image = lambda: rng.integers(0, 256, (B, 32, 32, 3), dtype=np.uint8)
  return dict(x_s=image(), x_t=image(), x_tg=image(),
              y_e_s=rng.integers(0, NE, B).astype(np.int32),
              y_i_t=rng.integers(0, NI, B).astype(np.int32),
              y_i_s=np.zeros(B, np.int32), y_e_t=np.zeros(B, np.int32))


def _setup(config, num_devices, decorate=lambda f: f, numpy_init=False,
           total_steps=0):
  mesh = gan_steps.make_mesh(jax.devices()[:num_devices])
  g_model = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
  d_model = models.build_discriminator(config, NE, NI)
  # Adam as configured, but with eps = 1e-3: its first update is then linear
  # in gradients far below eps (e.g. a conv bias that GroupNorm cancels has a
  # ~1e-9 round-off gradient that eps = 1e-8 would blow up to a full lr step),
  # so the 1- vs 2-device comparison below can be a sharp one.
  t = config.train
  g_tx = optax.adam(t.g_lr, b1=t.b1, b2=t.b2, eps=1e-3)
  d_tx = optax.adam(t.d_lr, b1=t.b1, b2=t.b2, eps=1e-3)
  reader_model = expression_reader.build_model(config, NE)
  if numpy_init:  # Skips compiling the initialiser.
    abstract = jax.eval_shape(functools.partial(
        gan_steps.create_state, g_model=g_model, d_model=d_model, g_tx=g_tx,
        d_tx=d_tx, reader_model=reader_model,
        g_ema=config.train.g_ema_decay > 0), jax.random.PRNGKey(0))
    rng = np.random.default_rng(0)
    params = lambda tree: jax.tree.map(
        lambda a: (0.05 * rng.standard_normal(a.shape)).astype(a.dtype), tree)
    zeros = lambda tree: jax.tree.map(
        lambda a: np.zeros(a.shape, a.dtype), tree)
    stats = jax.tree_util.tree_map_with_path(
        lambda path, a: np.full(a.shape, 'var' in str(path[-1]), a.dtype),
        abstract.g_batch_stats)
    state = abstract.replace(
        step=np.int32(0), g_params=params(abstract.g_params),
        d_params=params(abstract.d_params), g_batch_stats=stats,
        g_opt_state=zeros(abstract.g_opt_state),
        d_opt_state=zeros(abstract.d_opt_state), rng=zeros(abstract.rng),
        reader=params(abstract.reader))
    if state.g_ema:  # G's moving average starts at G.
      state = state.replace(g_ema=jax.tree.map(np.copy, state.g_params))
    state = jax.device_put(state, NamedSharding(mesh, P()))
  else:
    state = gan_steps.init_state(config, g_model, d_model, g_tx, d_tx, mesh)
  steps = gan_steps.make_steps(config, g_model, d_model, g_tx, d_tx, mesh,
                               total_steps=total_steps, decorate=decorate,
                               reader_model=reader_model)
  return mesh, state, steps


def _run(step_fn, state, batch):
  state, metrics = step_fn(state, batch)
  jax.block_until_ready(state)  # Await all-reduces before the next step.
  return state, jax.device_get(metrics)


def _changed(before, after):
  """Per-leaf: did any element change?"""
  return jax.tree.map(lambda a, b: bool(np.any(np.asarray(a) != b)),
                      before, after)


def _assert_only_updates(before, after, own, other):
  """Every param of network `own` ('g' or 'd') changed; the other network's
  params and optimiser state did not."""
  params = lambda s, net: getattr(s, f'{net}_params')
  assert all(jax.tree.leaves(_changed(params(before, own),
                                      params(after, own))))
  assert not any(jax.tree.leaves(_changed(params(before, other),
                                          params(after, other))))
  assert not any(jax.tree.leaves(_changed(
      getattr(before, f'{other}_opt_state'),
      getattr(after, f'{other}_opt_state'))))


def _assert_states_close(a, b):
  """Equal up to float round-off, leaf by leaf: |a - b| <= 1e-5 |b| +
  1e-4 max|b|. The second term allows for sums that cancel (e.g. the bias
  gradient of a conv that a norm follows): different batch splits or matrix
  product shapes round their terms differently, and the cancellation keeps
  that absolute error while shrinking the sum."""
  def close(x, y):
    x, y = np.asarray(x), np.asarray(y)
    atol = 1e-4 * float(np.abs(y).max()) if y.size else 0.0
    np.testing.assert_allclose(x, y, rtol=1e-5, atol=max(atol, 1e-7))
  jax.tree.map(close, a, b)


def _adam_count(opt_state):
  return int(opt_state[0].count)


def _iteration_on_two_devices(config, s0, batch):
  """The fused iteration (D update, then G update) from host state s0 on a
  2-device mesh, each device holding half of `batch`: the host state after."""
  mesh, _, (iteration, _, _) = _setup(config, 2, numpy_init=True)
  state = jax.device_put(s0, NamedSharding(mesh, P()))
  state, _ = _run(iteration, state, gan_steps.shard_batch(batch, mesh))
  return jax.device_get(state)


def test_steps_own_params_one_vs_two_devices_no_retrace_no_nan():
  """One test so that the 1-device programs are compiled once."""
  config = _config('auto')
  traced = lambda f: chex.assert_max_traces(f, n=1)
  mesh, state, (iteration, d_step, g_step) = _setup(config, 1,
                                                    decorate=traced)
  s0 = jax.device_get(state)

  batch = gan_steps.shard_batch(_batch(0), mesh)
  state, d_metrics = _run(d_step, state, batch)
  s1 = jax.device_get(state)
  _assert_only_updates(s0, s1, 'd', 'g')
  assert (_adam_count(s1.d_opt_state), _adam_count(s1.g_opt_state)) == (1, 0)
  assert int(s1.step) == 1
  assert {'d_total', 'd_fake', 'd_exp', 'd_id', 'd_grad_norm'} <= set(
      d_metrics)

  state, g_metrics = _run(g_step, state, batch)
  s2 = jax.device_get(state)
  _assert_only_updates(s1, s2, 'g', 'd')
  assert (_adam_count(s2.d_opt_state), _adam_count(s2.g_opt_state)) == (1, 1)
  assert int(s2.step) == 1  # step counts iterations (D updates).
  assert {'g_total', 'g_adv', 'g_pix', 'g_exp', 'g_id', 'g_fe_contrast',
          'g_grad_norm'} <= set(g_metrics)

  # The same D and G updates on a 2-device mesh (as the fused iteration,
  # from the same s0) give the same state.
  _assert_states_close(s2, _iteration_on_two_devices(config, s0, _batch(0)))

  # The fused iteration (what the loop runs) from s0 on the same batch: the
  # same state and metrics as the D step followed by the G step.
  state = jax.device_put(s0, NamedSharding(mesh, P()))
  state, metrics = _run(iteration, state, batch)
  chex.assert_trees_all_close(jax.device_get(state), s2, rtol=1e-5, atol=1e-6)
  chex.assert_trees_all_close(metrics, {**d_metrics, **g_metrics}, rtol=1e-5,
                              atol=1e-6)

  # A few more real iterations, as the loop runs them, with the G boost (2 G
  # steps per D step) from iteration 2 of 4: new batches, no retracing,
  # nothing non-finite.
  total = 4
  assert [train.g_steps_at(i, total, config) for i in range(total)] == [
      1, 1, 2, 2]
  for i in range(1, total):
    batch = gan_steps.shard_batch(_batch(i), mesh)
    state, metrics = _run(iteration, state, batch)
    for _ in range(train.g_steps_at(i, total, config) - 1):
      state, g_metrics = _run(g_step, state, batch)
      metrics.update(g_metrics)
    train.check_finite(metrics, step=i + 1)
  final = jax.device_get(state)
  assert int(final.step) == total
  assert _adam_count(final.g_opt_state) == 6
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(final))


def test_expression_contrast_reaches_ges_only():
  """With every term of the paper's L_G and L_D at 0 and only λ5 on, a G
  step changes every weight of Ges and no parameter of Get, Gde or D."""
  config = _config()
  for name in ('lambda_adv', 'lambda_pix', 'lambda_exp', 'lambda_id'):
    config.loss[name] = 0.0
  mesh, state, (_, _, g_step) = _setup(config, 1, numpy_init=True)
  s0 = jax.device_get(state)
  state, metrics = _run(g_step, state, gan_steps.shard_batch(_batch(0), mesh))
  s1 = jax.device_get(state)
  changed = _changed(s0.g_params, s1.g_params)
  # Every weight of Ges moves (a conv bias that GroupNorm follows has a zero
  # gradient, here exactly 0).
  ges_kernels = [c for path, c in jax.tree_util.tree_leaves_with_path(
      changed['Ges']) if path[-1].key == 'kernel']
  assert len(ges_kernels) == 6 and all(ges_kernels)
  assert not any(jax.tree.leaves((changed['Get'], changed['Gde'])))
  assert not any(jax.tree.leaves(_changed(s0.d_params, s1.d_params)))
  assert metrics['g_fe_contrast'] > 0
  np.testing.assert_allclose(metrics['g_total'], metrics['g_fe_contrast'],
                             rtol=1e-6)


def _reader_only_config(reader_warmup):
  """Only λ6 on, R reading x_bar in a frame of x_tg's quarter-wide border;
  the D-judged terms warm up over 8 iterations of 8."""
  config = _config()
  for name in ('lambda_adv', 'lambda_pix', 'lambda_exp', 'lambda_id',
               'lambda_fe_contrast'):
    config.loss[name] = 0.0
  config.loss.lambda_reader = 2.0
  config.loss.d_terms_warmup = 1.0
  config.loss.reader_warmup = reader_warmup
  config.loss.reader_border = 0.25
  return config


def test_reader_term_reaches_all_of_g_only_and_the_reader_stays_frozen():
  """With only λ6 on, a G step moves every kernel of Ges, Get and Gde (the
  term reads x_bar), no parameter of D and nothing of the reader; its value
  is the reader's block distance between G's x_bar (inside x_tg's frame)
  and x_tg, weighted by the D-judged terms' warm-up (2 of its 8 iterations
  done: 1/4)."""
  config = _reader_only_config(reader_warmup=True)
  mesh, state, (_, _, g_step) = _setup(config, 1, numpy_init=True,
                                       total_steps=8)
  state = state.replace(step=jax.device_put(np.int32(2), state.step.sharding))
  s0 = jax.device_get(state)
  batch = _batch(0)
  state, metrics = _run(g_step, state, gan_steps.shard_batch(batch, mesh))
  s1 = jax.device_get(state)
  changed = _changed(s0.g_params, s1.g_params)
  for net in ('Ges', 'Get', 'Gde'):
    kernels = [c for path, c in jax.tree_util.tree_leaves_with_path(
        changed[net]) if path[-1].key == 'kernel']
    assert kernels and all(kernels), net
  assert not any(jax.tree.leaves(_changed(s0.d_params, s1.d_params)))
  chex.assert_trees_all_equal(s1.reader, s0.reader)
  # The metric, recomputed outside the step from the state it started from.
  g_model = models.build_generator(config)
  reader_model = models.build_classifier(config, NE)
  to_unit = lambda x: np.asarray(x, np.float32) / 127.5 - 1.0

  @functools.partial(jax.jit, static_argnums=5)  # One program per border.
  def reader_term(g_variables, reader, x_s, x_t, x_tg, border):
    x_bar = g_model.apply(g_variables, x_s, x_t, train=True)
    fake = expression_reader.block_features(
        reader_model, reader, losses.reader_view(x_bar, x_tg, border))
    real = expression_reader.block_features(reader_model, reader, x_tg)
    return losses.reader_feature_loss(fake, real), len(fake)

  faces = [to_unit(batch[k]) for k in ('x_s', 'x_t', 'x_tg')]
  expected, num_blocks = reader_term(gan_steps.g_variables(s0), s0.reader,
                                     *faces, 0.25)
  assert num_blocks == 5
  expected = float(expected)
  unframed, _ = reader_term(gan_steps.g_variables(s0), s0.reader, *faces, 0.0)
  assert abs(float(unframed) - expected) > 1e-3 * expected
  np.testing.assert_allclose(metrics['g_reader'], expected, rtol=1e-5)
  assert metrics['g_d_terms_scale'] == 0.25
  np.testing.assert_allclose(metrics['g_total'], 0.25 * 2.0 * expected,
                             rtol=1e-5)

  # With loss.reader_warmup off, the term has its full weight at once.
  config = _reader_only_config(reader_warmup=False)
  _, _, (_, _, g_step) = _setup(config, 1, numpy_init=True, total_steps=8)
  _, metrics = _run(g_step, jax.device_put(s0, state.step.sharding),
                    gan_steps.shard_batch(batch, mesh))
  assert metrics['g_d_terms_scale'] == 0.25
  np.testing.assert_allclose(metrics['g_reader'], expected, rtol=1e-5)
  np.testing.assert_allclose(metrics['g_total'], 2.0 * expected, rtol=1e-5)


def _saliency_by_autodiff(reader_model, reader, x, labels):
  """R's saliency by its definition: |∂ log p(label | x) / ∂x| averaged over
  channels, one gradient of the faces' summed log-likelihoods (each face's
  depends on that face alone)."""
  def log_likelihood(x):
    log_p = jax.nn.log_softmax(reader_model.apply(reader, x, train=False))
    return jnp.sum(jnp.take_along_axis(log_p, labels[:, None], axis=1))
  return jnp.mean(jnp.abs(jax.grad(log_likelihood)(x)), axis=-1,
                  keepdims=True)


def test_pixel_change_saliency_is_the_readers_and_weighs_the_pixel_term():
  """With loss.pixel_change_saliency, a G step's pixel term is
  losses.pixel_loss with R's saliency of x_tg (computed outside the step)
  inside the reader's frame,
  which differs from the term without it; the saliency of a batch is each
  face's own |∂ log p(label | face) / ∂face|, averaged over channels."""
  config = _config()
  config.loss.lambda_reader = 2.0
  config.loss.pixel_change_weight = 4.0
  config.loss.pixel_change_saliency = 1.0
  mesh, state, (_, _, g_step) = _setup(config, 1, numpy_init=True)
  s0 = jax.device_get(state)
  batch = _batch(0)
  _, metrics = _run(g_step, state, gan_steps.shard_batch(batch, mesh))
  g_model = models.build_generator(config)
  reader_model = models.build_classifier(config, NE)
  x_s, x_t, x_tg = (np.asarray(batch[k], np.float32) / 127.5 - 1.0
                    for k in ('x_s', 'x_t', 'x_tg'))
  labels = np.asarray(batch['y_e_s'])

  @jax.jit
  def pixel_terms(g_variables, reader):
    x_bar = g_model.apply(g_variables, x_s, x_t, train=True)
    saliency = _saliency_by_autodiff(reader_model, reader, x_tg, labels)
    border = config.loss.reader_border  # The reader's frame.
    return (saliency,
            losses.pixel_loss(x_bar, x_tg, x_t, 4.0, saliency, 1.0, border),
            losses.pixel_loss(x_bar, x_tg, x_t, 4.0))

  saliency, expected, without = pixel_terms(gan_steps.g_variables(s0),
                                            s0.reader)
  np.testing.assert_allclose(metrics['g_pix'], expected, rtol=1e-5)
  assert float(without) != float(expected)
  # G's x_bar is far from x_tg everywhere at initialisation, so the weights'
  # effect on the term is small; on the weights themselves it is not.
  weights = [np.asarray(losses.change_map(x_tg, x_t, s, 1.0, border))
             for s, border in ((saliency, config.loss.reader_border),
                               (None, 0.0))]
  assert np.abs(weights[0] - weights[1]).max() > 0.5
  assert saliency.shape == x_tg.shape[:3] + (1,)

  def own(face, label):
    logits = reader_model.apply(s0.reader, face[None], train=False)
    return jax.nn.log_softmax(logits)[0, label]
  for i in (0, len(labels) - 1):
    grad = jax.grad(own)(x_tg[i], labels[i])
    np.testing.assert_allclose(saliency[i, ..., 0],
                               np.abs(grad).mean(-1), rtol=1e-4, atol=1e-9)


def test_one_reader_pass_gives_the_terms_gradient_and_the_saliency():
  """gan_steps._reader_pass (one pass of R over [x_bar in x_tg's frame;
  x_tg], one pull-back) gives R's term, its gradient w.r.t. x_bar as
  autodiff of the term read in two passes, and R's saliency of x_tg by
  autodiff; without the saliency, the same term and gradient."""
  config = _config()
  config.loss.lambda_reader = 2.0
  config.loss.reader_border = 0.25
  reader_model = expression_reader.build_model(config, NE)
  reader = expression_reader.init(reader_model, jax.random.PRNGKey(1))
  batch = _batch(0)
  x_tg = np.asarray(batch['x_tg'], np.float32) / 127.5 - 1.0
  x_bar = np.random.default_rng(1).uniform(-1, 1, x_tg.shape).astype(
      np.float32)

  def two_passes(x_bar):
    fake = expression_reader.block_features(
        reader_model, reader, losses.reader_view(x_bar, x_tg, 0.25))
    real = expression_reader.block_features(reader_model, reader, x_tg)
    return losses.reader_feature_loss(fake, real)
  term, grad = jax.jit(jax.value_and_grad(two_passes))(x_bar)
  expected_saliency = _saliency_by_autodiff(reader_model, reader, x_tg,
                                            batch['y_e_s'])
  assert float(np.abs(grad).max()) > 0
  assert float(np.abs(expected_saliency).max()) > 0
  for share in (0.5, 0.0):
    config.loss.pixel_change_saliency = share
    got = jax.jit(functools.partial(
        gan_steps._reader_pass, reader_model=reader_model,
        loss_config=config.loss))(x_bar, reader, batch)
    np.testing.assert_allclose(got[0], term, rtol=1e-6)
    np.testing.assert_allclose(got[1], grad, rtol=1e-5,
                               atol=1e-5 * np.abs(grad).max())
    # R's frame (a quarter of the side) gets no gradient.
    assert not np.any(np.asarray(got[1])[:, :8])
    if share:
      np.testing.assert_allclose(got[2], expected_saliency, rtol=1e-4,
                                 atol=1e-5 * np.abs(expected_saliency).max())
    else:
      assert got[2] is None


def test_saliency_without_the_reader_is_refused():
  config = _config()
  config.loss.pixel_change_saliency = 0.5  # λ6 = 0: no reader to ask.
  g_model = models.build_generator(config, bn_axis_name=gan_steps.AXIS)
  d_model = models.build_discriminator(config, NE, NI)
  g_tx, d_tx = gan_steps.make_optimizers(config)
  mesh = gan_steps.make_mesh(jax.devices()[:1])
  try:
    gan_steps.make_steps(config, g_model, d_model, g_tx, d_tx, mesh,
                         reader_model=None)
  except ValueError as e:
    assert 'pixel_change_saliency > 0) needs the reader_model' in str(e)
  else:
    raise AssertionError('make_steps took the saliency without a reader')


def test_reader_training_compiles_its_step_once():
  """expression_reader.train places Adam's state like R's params (replicated
  over the mesh), so the second step runs the first step's program."""
  config = _config()
  mesh = gan_steps.make_mesh(jax.devices()[:2])
  model = models.build_classifier(config, NE)
  variables = jax.device_put(
      jax.jit(functools.partial(expression_reader.init, model))(
          jax.random.PRNGKey(0)), NamedSharding(mesh, P()))
  events = []

  def batches():
    for i in range(3):
      events.append('batch')
      yield gan_steps.shard_batch(_batch(i), mesh)

  with compile_events.compile_events(events):
    expression_reader.train(config, model, variables, batches(), 3,
                            await_each_step=True)
  second = events.index('batch', events.index('batch') + 1)
  compiled = lambda part: [e for e in part if e != 'batch']  # noqa: E731
  assert compiled(events[:second]) and not compiled(events[second:])


def test_g_moving_average_follows_g_and_is_what_evaluation_reads():
  """With train.g_ema_decay, every G update moves the average towards the new
  params by the warmed-up weight (computed here by hand); D's update draws
  x_bar from the live G; g_variables hands out the average."""
  config = _config()
  config.train.g_ema_decay = 0.9
  _, s0, (iteration, d_step, g_step) = _setup(config, 1)
  s0 = jax.device_get(s0)
  chex.assert_trees_all_equal(s0.g_ema, s0.g_params)  # Starts at G.
  batch = _batch(0)
  s1, _ = _run(iteration, s0, batch)
  s1 = jax.device_get(s1)
  assert not any(jax.tree.leaves(_changed(s0.g_ema, s0.g_params)))
  # After the iteration's D update (step 1): weight min(0.9, 2 / 11).
  w = 2.0 / 11.0
  expected = jax.tree.map(lambda a, p: w * a + (1 - w) * p, s0.g_ema,
                          s1.g_params)
  chex.assert_trees_all_close(s1.g_ema, expected, rtol=1e-6, atol=1e-7)
  assert all(jax.tree.leaves(_changed(s0.g_ema, s1.g_ema)))
  # A boost G update at step 1 moves it again, by the same weight.
  s2 = jax.device_get(_run(g_step, s1, batch)[0])
  expected = jax.tree.map(lambda a, p: w * a + (1 - w) * p, s1.g_ema,
                          s2.g_params)
  chex.assert_trees_all_close(s2.g_ema, expected, rtol=1e-6, atol=1e-7)
  # Late in training the weight is the decay.
  np.testing.assert_allclose(gan_steps.ema_weight(np.int32(10_000), 0.9), 0.9)
  np.testing.assert_allclose(gan_steps.ema_weight(np.int32(0), 0.9), 0.1)

  # D's update does not read the average: zeroing it changes nothing.
  zeroed = s1.replace(g_ema=jax.tree.map(np.zeros_like, s1.g_ema))
  d_a = jax.device_get(_run(d_step, s1, batch)[0]).d_params
  d_b = jax.device_get(_run(d_step, zeroed, batch)[0]).d_params
  chex.assert_trees_all_equal(d_a, d_b)

  # Evaluation reads the average, from a state or a checkpoint's tree.
  for state in (s2, {'g_params': s2.g_params, 'g_ema': s2.g_ema}):
    chex.assert_trees_all_equal(gan_steps.g_variables(state)['params'],
                                s2.g_ema)
    chex.assert_trees_all_equal(
        gan_steps.g_variables(state, averaged=False)['params'], s2.g_params)
  # Off (the default): no average in the state; g_variables is the live G.
  config.train.g_ema_decay = 0.0
  _, s_off, _ = _setup(config, 1, numpy_init=True)  # create_state's shapes.
  assert s_off.g_ema == {}
  chex.assert_trees_all_equal(gan_steps.g_variables(s_off)['params'],
                              s_off.g_params)


def test_photometric_jitter_is_what_the_updates_see():
  """With config.augment's jitter on, the iteration and D's update equal the
  same programs without it run on the batch jittered by hand with the step's
  key (fold_in(rng, step), device 0, the jitter's stream)."""
  off = _config()
  on = _config()
  on.augment.stage1_gain, on.augment.stage1_shift = 0.15, 20.0
  _, s0, (iteration_on, d_step_on, _) = _setup(on, 1, numpy_init=True)
  _, _, (iteration_off, d_step_off, _) = _setup(off, 1, numpy_init=True)
  s0 = jax.device_get(s0)
  batch = _batch(0)
  key = jax.random.fold_in(jax.random.fold_in(
      jax.random.fold_in(s0.rng, s0.step), 0), gan_steps._PHOTOMETRIC_STREAM)
  jittered = jax.device_get(photometric.jitter_triplets(
      key, batch, gain=0.15, shift=20.0))
  assert np.abs(jittered['x_t'] - batch['x_t']).max() > 1
  for step_on, step_off in ((iteration_on, iteration_off),
                            (d_step_on, d_step_off)):
    a = jax.device_get(_run(step_on, s0, batch)[0])
    b = jax.device_get(_run(step_off, s0, jittered)[0])
    _assert_states_close(a, b)
  # Off, the unjittered batch gives another state: the jitter is not a no-op.
  c = jax.device_get(_run(d_step_off, s0, batch)[0])
  assert any(jax.tree.leaves(_changed(a.d_params, c.d_params)))


def test_batchnorm_generator_fused_iteration_and_one_vs_two_devices():
  """With norm='batch': G's one forward pass in `iteration` gives the
  BatchNorm statistics that the separate G step computes, and statistics are
  averaged over the 'data' axis (a G step on 1 and on 2 devices gives the
  same params and statistics). One test, so that the 1-device programs are
  compiled once."""
  config = _config()
  config.model.norm = 'batch'
  mesh, state, (iteration, d_step, g_step) = _setup(config, 1,
                                                    numpy_init=True)
  batch = gan_steps.shard_batch(_batch(0), mesh)
  s0 = jax.device_get(state)

  # A G step alone from s0, on 1 and on 2 devices: the same state.
  mesh2, _, (_, _, g_step2) = _setup(config, 2, numpy_init=True)
  g_only = []
  for step, m in ((g_step, mesh), (g_step2, mesh2)):
    state, metrics = _run(step, jax.device_put(s0, NamedSharding(m, P())),
                          gan_steps.shard_batch(_batch(0), m))
    s1 = jax.device_get(state)
    assert all(jax.tree.leaves(_changed(s0.g_batch_stats, s1.g_batch_stats)))
    train.check_finite(metrics, step=1)
    g_only.append(s1)
  chex.assert_trees_all_close(g_only[0], g_only[1], rtol=1e-5, atol=1e-6)

  # The fused iteration against a D step then a G step.
  state = jax.device_put(s0, NamedSharding(mesh, P()))
  state, d_metrics = _run(d_step, state, batch)
  state, g_metrics = _run(g_step, state, batch)
  expected = jax.device_get(state)
  state = jax.device_put(s0, NamedSharding(mesh, P()))
  state, metrics = _run(iteration, state, batch)
  fused = jax.device_get(state)
  assert all(jax.tree.leaves(_changed(s0.g_batch_stats, fused.g_batch_stats)))
  chex.assert_trees_all_close(fused, expected, rtol=1e-5, atol=1e-6)
  chex.assert_trees_all_close(metrics, {**d_metrics, **g_metrics}, rtol=1e-5,
                              atol=1e-6)


def test_cpu_iteration_updates_adam_moments_in_place():
  """gan_steps.CPU_COMPILER_OPTIONS reach the compiled iteration: no Adam
  moment of either network is copied before its in-place update."""
  mesh, state, steps = _setup(_config('auto'), 1, numpy_init=True)
  batch = gan_steps.shard_batch(_batch(0), mesh)
  hlo = steps.iteration.lower(state, batch).compile().as_text()
  entry = hlo[hlo.index('\nENTRY'):]
  moments = re.findall(r'%(state_[gd]_opt_state\w*__(?:mu|nu)__[\w.]*) = ',
                       entry)
  assert len(moments) == 2 * len(jax.tree.leaves(
      (state.g_params, state.d_params)))
  copied = re.findall(r' copy\(%([\w.]+)\)', entry)
  assert not set(copied) & set(moments)
