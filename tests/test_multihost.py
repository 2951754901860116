"""Multi-process training for real: two processes on localhost (CPU, gloo).

`python -m relgan_jax.main --coordinator_address=localhost:PORT
--num_processes=2 --process_id={0,1}` trains 3 steps of the tiny config, one
CPU device per process, each process feeding its half of every global batch.
Both processes must end with the same state (the fingerprint each logs; the
run itself also checks this across processes) and that state must equal, to
float tolerance, a single-process 2-device run (in this test's process) fed
the same global batches. Only process 0 writes TensorBoard events; orbax
writes one checkpoint, with one data-iterator file per process, which a
single process then refuses to resume with a clear error.

Also: how the coordinator settings are read from flags and environment.
"""

import json
import os
import socket

import chex
import cli_runs
import jax
import numpy as np
import pytest

from configs import tiny
from relgan_jax.data import input_pipeline
from relgan_jax.data import records
from relgan_jax.stage1 import checkpointing
from relgan_jax.stage1 import distributed
from relgan_jax.stage1 import train

NUM_STEPS = 3
_STAGE1_DATASET = input_pipeline.stage1_dataset  # Before monkeypatching.

# --- Settings ----------------------------------------------------------------


def test_settings_from_flags_then_environment():
  environ = {'JAX_COORDINATOR_ADDRESS': 'head:1234', 'JAX_NUM_PROCESSES': '4',
             'JAX_PROCESS_ID': '3'}
  assert distributed.resolve_settings(environ=environ) == distributed.Settings(
      'head:1234', 4, 3)
  # Flags win over the environment.
  got = distributed.resolve_settings('other:99', 8, 5, environ=environ)
  assert got == distributed.Settings('other:99', 8, 5)
  assert got.explicit
  assert not distributed.resolve_settings(environ={}).explicit


@pytest.mark.parametrize('kwargs, message', [
    (dict(coordinator_address='head:1234'),
     'num_processes, process_id not set'),
    (dict(coordinator_address='head', num_processes=2, process_id=0),
     "coordinator_address must be HOST:PORT, got 'head'"),
    (dict(coordinator_address='head:1', num_processes=2, process_id=2),
     'process_id must be in 0..num_processes-1'),
])
def test_inconsistent_settings_fail_clearly(kwargs, message):
  with pytest.raises(distributed.DistributedConfigError, match=message):
    distributed.resolve_settings(**kwargs, environ={})


def test_single_process_needs_no_initialization():
  assert not distributed.managed_cluster({})
  assert distributed.managed_cluster({'SLURM_JOB_ID': '7'})
  assert not distributed.initialize('off')
  assert not distributed.initialize('auto', distributed.Settings(), environ={})
  with pytest.raises(distributed.DistributedConfigError, match='mode'):
    distributed.initialize('sometimes')


def test_fingerprint_is_bitwise():
  tree = {'a': np.arange(3, dtype=np.float32), 'b': np.zeros((2, 2))}
  same = {'a': np.arange(3, dtype=np.float32), 'b': np.zeros((2, 2))}
  assert distributed.fingerprint(tree) == distributed.fingerprint(same)
  same['a'][1] = np.nextafter(np.float32(1), np.float32(2))
  assert distributed.fingerprint(tree) != distributed.fingerprint(same)
  distributed.check_processes_agree(distributed.fingerprint(tree), 'x')


# --- Two processes ------------------------------------------------------------


def _free_port() -> int:
  with socket.socket() as s:
    s.bind(('localhost', 0))
    return s.getsockname()[1]


class _BothShards:
  """Process 0's and process 1's batches, concatenated in that order: the
  global batch a 2-process run assembles (process p's rows on device p)."""

  def __init__(self, dataset, indices, config, seed):
    self.its = [_STAGE1_DATASET(dataset, indices, config, seed=seed,
                                shard_index=p, shard_count=2) for p in (0, 1)]

  def __next__(self):
    parts = [next(it) for it in self.its]
    return {k: np.concatenate([b[k] for b in parts]) for k in parts[0]}

  def get_state(self) -> bytes:  # Saved with the checkpoint (grain handler).
    return json.dumps([it.get_state() for it in self.its]).encode()


def _config(data_dir):
  config = tiny.get_config()
  config.data.dir = data_dir
  config.data.read_threads = 1
  config.train.num_steps = NUM_STEPS
  config.train.log_every = 1
  config.train.checkpoint_every = 2
  config.train.image_summary_every = 0
  config.train.g_boost_start = 0.5
  return config


def test_two_processes_match_one_process(data_dir, tmp_path, monkeypatch):
  workdir = str(tmp_path / 'two_processes')
  port = _free_port()
  # Both compile the same programs at the same time: no shared cache.
  env = cli_runs.env('', num_devices=1)
  runs = [cli_runs.Run(cli_runs.tiny_train_args(
      data_dir, workdir, NUM_STEPS, f'--coordinator_address=localhost:{port}',
      '--num_processes=2', f'--process_id={p}',
      # The reenactment grid once, at the end: process 0 writes it.
      f'--config.train.image_summary_every={NUM_STEPS}'), env) for p in (0, 1)]
  codes = [run.finish() for run in runs]
  assert codes == [0, 0], '\n\n'.join(r.text()[-3000:] for r in runs)
  assert 'process 1 of 2, 2 devices (cpu)' in runs[1].text()
  (fp0,), (fp1,) = (run.all(cli_runs.FINGERPRINT) for run in runs)
  assert fp0.group(2) == fp1.group(2)  # Identical replicas.
  # Process 0 alone held the workdir's lock and recorded the config
  # (relgan_jax/workdir_guard.py).
  with open(os.path.join(workdir, 'run.lock')) as f:
    assert json.load(f)['pid'] == runs[0].proc.pid
  with open(os.path.join(workdir, 'run_config.json')) as f:
    assert json.load(f)['mode'] == 'train_gan'

  # One TensorBoard event file (process 0's); one checkpoint with the data
  # position of each process.
  events = os.listdir(os.path.join(workdir, 'tensorboard'))
  assert len([e for e in events if 'tfevents' in e]) == 1
  data_files = os.listdir(os.path.join(workdir, 'checkpoints', str(NUM_STEPS),
                                       'data'))
  assert sorted(f for f in data_files if f.endswith('.json')) == [
      'process_0-of-2.json', 'process_1-of-2.json']

  # The same global batches in one process with two devices.
  dataset = records.PreparedDataset(data_dir)
  monkeypatch.setattr(input_pipeline, 'stage1_dataset',
                      lambda ds, idx, config, seed: _BothShards(ds, idx,
                                                                config, seed))
  assert len(jax.devices()) == 2
  state = train.train_gan(_config(data_dir), str(tmp_path / 'one_process'),
                          dataset, np.arange(len(dataset)))
  expected = jax.device_get(state)
  got, meta = checkpointing.load_state_tree(workdir)
  assert meta['step'] == NUM_STEPS
  chex.assert_trees_all_close(
      {'g': got['g_params'], 'd': got['d_params']},
      {'g': expected.g_params, 'd': expected.d_params}, rtol=1e-5, atol=1e-6)

  # One process cannot resume the 2-process run: the data positions are per
  # process. The error says so (main prints it as one line).
  with pytest.raises(checkpointing.CheckpointMismatchError,
                     match='resume with the same number of processes'):
    train.train_gan(_config(data_dir), workdir, dataset,
                    np.arange(len(dataset)))
  bitwise = distributed.fingerprint(expected).startswith(fp0.group(2))
  print(f'\nTwo processes vs one process: bitwise equal = {bitwise}.')


def test_data_refused_by_process_0_stops_every_process(data_dir, tmp_path):
  """Process 0 opens the data first; where it cannot, the other process stops
  with it instead of waiting at the next barrier (here: the test's 4-person
  set is not the 12 people tiny.py asks for when it generates its own)."""
  port = _free_port()
  env = cli_runs.env('', num_devices=1)
  runs = [cli_runs.Run(cli_runs.tiny_train_args(
      data_dir, str(tmp_path / 'run'), NUM_STEPS,
      '--config.data.generate_if_missing=True',
      f'--coordinator_address=localhost:{port}', '--num_processes=2',
      f'--process_id={p}'), env) for p in (0, 1)]
  codes = [run.finish(timeout=240) for run in runs]
  texts = [run.text() for run in runs]
  assert codes[0] != 0 and codes[1] != 0, '\n\n'.join(t[-2000:] for t in texts)
  assert 'num_identities 4, the config asks for 12' in texts[0]
  assert 'process 0 refused the prepared data' in texts[1]
  for text in texts:
    assert 'Traceback' not in text
