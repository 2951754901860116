"""The stage-1 loop on a tiny synthetic prepared set: events, checkpoints, an
exact restore + continued training, the expression reader trained once and
kept frozen, and a diverged run stopped."""

import functools
import json
import os

import chex
import jax
import numpy as np
import pytest

from configs import tiny
from relgan_jax.data import input_pipeline
from relgan_jax.data import records
from relgan_jax.model import losses
from relgan_jax.model import models
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import expression_reader
from relgan_jax.stage1 import gan_steps
from relgan_jax.stage1 import metric_writers
from relgan_jax.stage1 import train

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _config(data_dir, num_steps):
  config = tiny.get_config()
  config.data.dir = data_dir
  config.train.num_steps = num_steps
  config.train.log_every = 1
  config.train.checkpoint_every = 2
  config.train.image_summary_every = 2
  config.train.g_boost_start = 0.5
  return config


def _cross_entropy_on_a_batch(model, config, dataset, indices):
  """reader variables -> the reader's cross-entropy on x_s and x_tg of one
  stage-1 batch (drawn once)."""
  batch = next(input_pipeline.stage1_dataset(dataset, indices, config,
                                             seed=5))
  x = input_pipeline.normalize(np.concatenate([batch['x_s'], batch['x_tg']]))
  y = np.concatenate([batch['y_e_s'], batch['y_e_s']])
  return jax.jit(lambda variables: losses.cross_entropy(
      model.apply(variables, x, train=False), y))


class _Built(Exception):
  """Raised by the spy below once the update programs are asked for."""


def test_train_gan_hands_the_photometric_jitter_to_the_updates(
    data_dir, tmp_path, monkeypatch):
  """config.augment's jitter reaches gan_steps.make_steps (which applies it:
  tests/test_gan_steps.py) through the loop's cached program builder."""
  seen = []

  def spy(config, *args, **kwargs):
    del args, kwargs
    seen.append((config.augment.stage1_gain, config.augment.stage1_shift))
    raise _Built

  monkeypatch.setattr(gan_steps, 'make_steps', spy)
  train._stage1_programs.cache_clear()
  config = _config(data_dir, num_steps=2)
  config.augment.stage1_gain, config.augment.stage1_shift = 0.1, 12.0
  dataset = records.PreparedDataset(data_dir)
  with pytest.raises(_Built):
    train.train_gan(config, str(tmp_path / 'run'), dataset,
                    np.arange(len(dataset)))
  assert seen == [(0.1, 12.0)]


def test_train_gan_writes_events_checkpoints_and_resumes(data_dir, tmp_path):
  """On 2 CPU devices, with G's expression-reader term and G's moving average
  on (one run covers all three: each train_gan compiles the stage-1
  programs, the suite's costliest step)."""
  workdir = str(tmp_path / 'run')
  config = _config(data_dir, num_steps=2)
  config.loss.lambda_reader = 1.0
  config.reader.epochs = 40
  config.train.g_ema_decay = 0.9
  dataset = records.PreparedDataset(data_dir)
  indices = np.arange(len(dataset))

  state = train.train_gan(config, workdir, dataset, indices)
  host_state = jax.device_get(state)
  assert int(host_state.step) == 2
  assert all(np.all(np.isfinite(x)) for x in jax.tree.leaves(host_state))
  # G's average was kept, and lags G (the restore below checks it too).
  assert any(not np.array_equal(a, p) for a, p in zip(
      jax.tree.leaves(host_state.g_ema), jax.tree.leaves(host_state.g_params)))
  # The reader was trained on the run's records before step 1: its
  # cross-entropy on them is lower than a fresh reader's (same init key).
  reader_model = models.build_classifier(config, 7)
  ce = _cross_entropy_on_a_batch(reader_model, config, dataset, indices)
  fresh = jax.jit(functools.partial(expression_reader.init, reader_model))(
      jax.random.fold_in(jax.random.PRNGKey(config.seed), 1))
  assert ce(host_state.reader) < ce(fresh) - 0.05

  # TensorBoard scalars for every logged step, and the reenactment grid.
  scalars = metric_writers.read_scalars(os.path.join(workdir, 'tensorboard'))
  for name in ('d_total', 'g_total', 'g_pix', 'g_reader', 'd_grad_norm',
               'steps_per_sec'):
    assert [s for s, _ in scalars[name]] == [1, 2], name
  events = ''.join(os.listdir(os.path.join(workdir, 'tensorboard')))
  assert 'tfevents' in events
  # Checkpoint 2 holds the state, the grain iterator state and meta.
  step_dir = os.path.join(workdir, 'checkpoints', '2')
  assert {'state', 'data', 'meta'} <= set(os.listdir(step_dir))
  with open(os.path.join(step_dir, 'meta', 'metadata')) as f:
    meta = json.load(f)
  assert meta['num_identities'] == 4 and meta['num_expressions'] == 7

  # What the data stream yields after the 2 batches consumed.
  it = input_pipeline.stage1_dataset(dataset, indices, config, seed=0)
  for _ in range(2):
    next(it)
  expected_batch = next(it)

  # A new train_gan on the same workdir rebuilds everything from disk (the
  # same in a fresh process, after SIGTERM and SIGKILL: tests/test_resume.py).
  # 1. Restore (num_steps already reached: nothing to train) == saved state,
  # the reader included: the saved one, not a new one (a reader retrained
  # for 1 epoch would differ).
  config.train.image_summary_every = 0
  saved, meta = checkpointing.load_state_tree(workdir)
  assert meta['step'] == 2
  chex.assert_trees_all_equal(saved['reader'], host_state.reader)
  config.reader.epochs = 1
  restored = train.train_gan(config, workdir, dataset, indices)
  chex.assert_trees_all_equal(jax.device_get(restored), host_state)
  # 2. The saved iterator position: the next batch is batch 3 of the stream.
  manager = checkpointing.make_manager(workdir, read_only=True)
  it = input_pipeline.stage1_dataset(dataset, indices, config, seed=0)
  abstract = jax.tree.map(
      lambda x: jax.ShapeDtypeStruct(x.shape, x.dtype, sharding=x.sharding),
      restored)
  checkpointing.restore(manager, abstract, it)
  chex.assert_trees_all_equal(next(it), expected_batch)
  # 3. Training continues from step 2; the steps leave the reader as it is.
  config.train.num_steps = 3
  continued = train.train_gan(config, workdir, dataset, indices)
  assert int(continued.step) == 3
  chex.assert_trees_all_equal(jax.device_get(continued).reader,
                              host_state.reader)
  assert checkpointing.make_manager(workdir, read_only=True).latest_step() == 3

  # A run resumed from a state whose D weights hold a NaN (what a diverged
  # step leaves) stops at the next step, naming it and the non-finite terms,
  # and writes no checkpoint after it. (Same process, models and mesh as
  # above: the compiled step programs are reused.)
  bad_dir = str(tmp_path / 'diverged')
  bad = jax.device_get(state)
  kernel = bad.d_params['De']['logits']['kernel'].copy()
  kernel[0, 0] = np.nan
  bad.d_params['De']['logits']['kernel'] = kernel
  it = input_pipeline.stage1_dataset(dataset, indices, config, seed=0)
  for _ in range(2):
    next(it)
  manager = checkpointing.make_manager(bad_dir)
  checkpointing.save(manager, 2, bad, it, {'num_expressions': 7,
                                           'num_identities': 4})
  manager.wait_until_finished()
  # num_steps stays 3: the same programs as the continued run above.
  config.train.checkpoint_every = 1
  with pytest.raises(train.NonFiniteLossError,
                     match=r'non-finite d_exp=nan.*at step 3\. Last good '
                     r'checkpoint: step 2'):
    train.train_gan(config, bad_dir, dataset, indices)
  assert checkpointing.make_manager(bad_dir, read_only=True).latest_step() == 2
