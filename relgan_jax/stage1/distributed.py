"""Multi-process (multi-host) start-up: `jax.distributed.initialize`.

One Python process runs per host (Cloud TPU VM worker, GPU node) or, on a
single machine, per process you choose to start. Every process runs the same
program over the global 1-D 'data' mesh of all devices (gan_steps.make_mesh) and
feeds its own share of each global batch (input_pipeline.stage1_dataset shards
by jax.process_index(); gan_steps.shard_batch assembles the global array with
jax.make_array_from_process_local_data). Process 0 alone writes TensorBoard
events, reports and exported files; orbax coordinates checkpoint writes (every
process calls save; the primary host writes the shared metadata).

How the processes find each other (`initialize`):
  * explicit: --coordinator_address=HOST:PORT --num_processes=N
    --process_id=I (or the environment variables JAX_COORDINATOR_ADDRESS,
    JAX_NUM_PROCESSES, JAX_PROCESS_ID), e.g. multi-node GPU or two CPU
    processes on localhost;
  * automatic: on a Cloud TPU VM (single or multi-host), under SLURM or Open
    MPI, JAX finds the coordinator, process count and id itself;
  * otherwise: a single process, nothing to initialise.
Cross-process collectives on CPU go through gloo (TCP); on TPU/GPU through
the accelerator's own interconnect.

Must run before anything touches a JAX device (relgan_jax.main does it first).
"""

import dataclasses
import hashlib
import os
from typing import Any, Callable, Mapping, Optional, Sequence

from absl import logging
import jax
import numpy as np

from relgan_jax import cli

MODES = ('auto', 'on', 'off')
ENV_ADDRESS = 'JAX_COORDINATOR_ADDRESS'
ENV_NUM_PROCESSES = 'JAX_NUM_PROCESSES'
ENV_PROCESS_ID = 'JAX_PROCESS_ID'
# Environment variables by which JAX's own cluster detection recognises a
# managed multi-process launch (SLURM, Open MPI); Cloud TPU VMs are recognised
# by jax itself (cloud_tpu_init.running_in_cloud_tpu_vm).
_MANAGED_ENV = ('SLURM_JOB_ID', 'OMPI_MCA_orte_hnp_uri')


class DistributedConfigError(ValueError, cli.UserError):
  """Inconsistent coordinator / process flags or environment."""


@dataclasses.dataclass(frozen=True)
class Settings:
  """Where to find the coordinator and who this process is (None = unset)."""
  coordinator_address: Optional[str] = None
  num_processes: Optional[int] = None
  process_id: Optional[int] = None
  local_device_ids: Optional[Sequence[int]] = None

  @property
  def explicit(self) -> bool:
    """True when any of address / count / id was given."""
    return any(v is not None for v in (self.coordinator_address,
                                       self.num_processes, self.process_id))


def _int_or_none(value, name: str) -> Optional[int]:
  if value is None or value == '':
    return None
  try:
    return int(value)
  except (TypeError, ValueError):
    raise DistributedConfigError(
        f'{name} must be an integer, got {value!r}.') from None


def resolve_settings(coordinator_address: Optional[str] = None,
                     num_processes: Optional[int] = None,
                     process_id: Optional[int] = None,
                     local_device_ids: Optional[Sequence[int]] = None,
                     environ: Optional[Mapping[str, str]] = None) -> Settings:
  """Flags, else environment variables; checked for consistency.

  Args:
    coordinator_address: 'host:port' of process 0's coordinator service.
    num_processes: total number of processes.
    process_id: this process, 0..num_processes-1.
    local_device_ids: devices this process drives (GPU: one process per GPU);
      None = all local devices.
    environ: the environment (default os.environ).

  Returns:
    The merged Settings.

  Raises:
    DistributedConfigError: a partial or out-of-range explicit setting.
  """
  environ = os.environ if environ is None else environ
  address = coordinator_address or environ.get(ENV_ADDRESS) or None
  count = _int_or_none(num_processes if num_processes is not None
                       else environ.get(ENV_NUM_PROCESSES), 'num_processes')
  index = _int_or_none(process_id if process_id is not None
                       else environ.get(ENV_PROCESS_ID), 'process_id')
  settings = Settings(address, count, index,
                      tuple(local_device_ids) if local_device_ids else None)
  if settings.explicit:
    missing = [name for name, v in (('coordinator_address', address),
                                    ('num_processes', count),
                                    ('process_id', index)) if v is None]
    if missing:
      raise DistributedConfigError(
          f'Multi-process run: {", ".join(missing)} not set (give all of '
          f'--coordinator_address, --num_processes and --process_id, or '
          f'{ENV_ADDRESS}, {ENV_NUM_PROCESSES} and {ENV_PROCESS_ID}).')
    if ':' not in address or not address.rsplit(':', 1)[1].isdigit():
      raise DistributedConfigError(
          f'coordinator_address must be HOST:PORT, got {address!r}.')
    if count < 1 or not 0 <= index < count:
      raise DistributedConfigError(
          f'process_id must be in 0..num_processes-1, got process_id={index}, '
          f'num_processes={count}.')
  return settings


def managed_cluster(environ: Optional[Mapping[str, str]] = None) -> bool:
  """True on a Cloud TPU VM or under SLURM / Open MPI (JAX auto-detects)."""
  environ = os.environ if environ is None else environ
  if any(k in environ for k in _MANAGED_ENV):
    return True
  try:
    from jax._src import cloud_tpu_init  # pylint: disable=g-import-not-at-top
  except ImportError:  # A JAX without it: no automatic TPU detection.
    return False
  return bool(getattr(cloud_tpu_init, 'running_in_cloud_tpu_vm', False))


def is_initialized() -> bool:
  """Whether jax.distributed is running in this process."""
  return jax.distributed.is_initialized()


def initialize(mode: str = 'auto', settings: Optional[Settings] = None, *,
               environ: Optional[Mapping[str, str]] = None) -> bool:
  """Starts jax.distributed when the run has (or may have) several processes.

  Args:
    mode: 'auto' = explicit settings, else a managed cluster (Cloud TPU VM,
      SLURM, Open MPI), else single process; 'on' = always (JAX auto-detects
      what is not given); 'off' = never.
    settings: from `resolve_settings` (default: the environment only).
    environ: the environment (default os.environ).

  Returns:
    True if jax.distributed was initialised (now or before).

  Raises:
    DistributedConfigError: bad mode or settings.
  """
  if mode not in MODES:
    raise DistributedConfigError(f'distributed mode must be one of {MODES}, '
                                 f'got {mode!r}.')
  if is_initialized():
    return True
  settings = settings or resolve_settings(environ=environ)
  wanted = mode == 'on' or (mode == 'auto' and (
      settings.explicit or managed_cluster(environ)))
  if not wanted:
    return False
  # Cross-process collectives for CPU devices (TPU/GPU ignore this option).
  jax.config.update('jax_cpu_collectives_implementation', 'gloo')
  kwargs = {}
  if settings.explicit:
    kwargs = dict(coordinator_address=settings.coordinator_address,
                  num_processes=settings.num_processes,
                  process_id=settings.process_id)
  if settings.local_device_ids:
    kwargs['local_device_ids'] = list(settings.local_device_ids)
  jax.distributed.initialize(**kwargs)
  logging.info('jax.distributed: process %d of %d (coordinator %s).',
               jax.process_index(), jax.process_count(),
               settings.coordinator_address or 'auto-detected')
  return True


# --- Replica consistency ------------------------------------------------------


def fingerprint(tree: Any) -> str:
  """sha256 (hex) of every leaf's dtype, shape and bytes, from this process's
  copy (replicated arrays: the local replica). Equal fingerprints = bitwise
  equal trees."""
  digest = hashlib.sha256()
  for leaf in jax.tree.leaves(jax.device_get(tree)):
    leaf = np.ascontiguousarray(leaf)
    digest.update(f'{leaf.dtype}{leaf.shape}'.encode())
    digest.update(leaf.tobytes())
  return digest.hexdigest()


def check_processes_agree(fingerprint_hex: str, what: str) -> None:
  """Raises RuntimeError unless every process has the same fingerprint.

  A collective: with several processes, all must call it. Single process:
  nothing to compare.
  """
  if jax.process_count() == 1:
    return
  # pylint: disable-next=g-import-not-at-top
  from jax.experimental import multihost_utils
  mine = np.frombuffer(bytes.fromhex(fingerprint_hex), np.uint8)
  everyone = np.asarray(multihost_utils.process_allgather(mine))
  if not np.all(everyone == mine[None]):
    raise RuntimeError(
        f'The processes hold different {what} (fingerprints '
        f'{[bytes(f).hex()[:12] for f in everyone]}): the replicas diverged.')


def is_primary() -> bool:
  """Process 0: the one that writes shared files (per-fold results, the
  report, a generated data set) in a multi-process run."""
  return jax.process_index() == 0


def sync(name: str) -> None:
  """Waits for every process at the barrier `name` (no-op with one)."""
  if jax.process_count() > 1:
    # pylint: disable-next=g-import-not-at-top
    from jax.experimental import multihost_utils
    multihost_utils.sync_global_devices(name)


def on_primary(fn: Callable[[], Any], what: str, *,
               catch: type = cli.UserError,
               refused: type = cli.UserError) -> Any:
  """fn() on process 0 alone; its result there (None elsewhere). An error of
  type `catch` there stops every process, instead of leaving the others to
  wait for process 0 at the next barrier: process 0 raises it, the others
  `refused`('process 0 refused <what> ...'). A collective: every process
  must call it. With one process: fn()."""
  if jax.process_count() == 1:
    return fn()
  result, error = None, None
  if is_primary():
    try:
      result = fn()
    except catch as e:
      error = e
  # pylint: disable-next=g-import-not-at-top
  from jax.experimental import multihost_utils
  failed = int(multihost_utils.broadcast_one_to_all(
      np.int32(error is not None)))
  if failed:
    raise error or refused(f'process 0 refused {what} (its log says why).')
  return result
