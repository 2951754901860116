"""Validation of a run's config before anything starts (one clear line each).

`check_config(config, num_devices=..., num_processes=...)` is what
`relgan_jax.main` calls first, before data are generated or anything is
compiled: a value that cannot work (an image size that is not a multiple of
32, an unknown dataset name, a negative λ, a global batch that the devices or
processes cannot split evenly, an unknown norm/dtype/conv_impl, ...) raises
`cli.ConfigError` whose message names the field, the value and what is allowed.
`check_stage1` is the subset that stage 1 (`train.train_gan`) needs; the
model and loss fields are checked by `models.check_model_config` and
`losses.check_loss_config` (kept beside the code that reads them) and
re-raised here as `cli.ConfigError`.

λ1..λ4 are the loss weights of DESIGN.md §3 (config.loss.lambda_adv, _pix,
_exp, _id).
"""

import math
import numbers
from typing import Any, Optional

import ml_collections

from relgan_jax import cli
from relgan_jax.data import loading
from relgan_jax.model import losses
from relgan_jax.model import models

# config.data.name: the data_prep readers (data_prep.readers.READERS) and the
# built-in synthetic set. tests/test_config_checks.py keeps the two in step.
DATASETS = ('bu3dfe', 'bu4dfe', 'ckplus', 'image_folder', 'oulu_casia', 'sfew',
            'synthetic')
# Datasets without identity labels (every image is its own person): the pair
# rule gives x_t = x_tg there, so stage 1 must come from a set with
# identities (protocol.pretrained_checkpoint or protocol.pretrain_data_dir).
WITHOUT_IDENTITIES = ('sfew',)


def _fail(field: str, value: Any, requirement: str):
  raise cli.ConfigError(f'config.{field} {requirement}, got {value!r}.')


def _is_int(value) -> bool:
  return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_real(value) -> bool:
  return (isinstance(value, numbers.Real) and not isinstance(value, bool)
          and math.isfinite(value))


def _positive_int(config, field: str, *, minimum: int = 1) -> None:
  value = _get(config, field)
  if not _is_int(value) or value < minimum:
    _fail(field, value, f'must be an integer >= {minimum}')


def _positive_real(config, field: str) -> None:
  value = _get(config, field)
  if not _is_real(value) or value <= 0:
    _fail(field, value, 'must be a finite number > 0')


def _in_unit(config, field: str, *, closed_low: bool = True) -> None:
  value = _get(config, field)
  low_ok = _is_real(value) and (value >= 0 if closed_low else value > 0)
  if not (low_ok and value < 1):
    _fail(field, value, 'must be in ' + ('[0, 1)' if closed_low else '(0, 1)'))


def _get(config, field: str):
  node = config
  for part in field.split('.'):
    node = node[part]
  return node


def _reraise(check, section) -> None:
  """Runs a module's own check, turning its ValueError into ConfigError."""
  try:
    check(section)
  except cli.ConfigError:
    raise
  except ValueError as e:
    raise cli.ConfigError(str(e)) from None


# --- Sections ---------------------------------------------------------------


def check_model(config: ml_collections.ConfigDict) -> None:
  """config.model: image size (multiple of 32), width, norm, dtype, ..."""
  _reraise(models.check_model_config, config.model)


def check_loss(config: ml_collections.ConfigDict) -> None:
  """config.loss: λ1..λ4 finite and >= 0."""
  for name in ('lambda_adv', 'lambda_pix', 'lambda_exp', 'lambda_id'):
    if not _is_real(config.loss[name]):
      _fail(f'loss.{name}', config.loss[name], 'must be a finite number >= 0')
  _reraise(losses.check_loss_config, config.loss)


def check_train(config: ml_collections.ConfigDict,
                num_devices: Optional[int] = None,
                num_processes: Optional[int] = None) -> None:
  """config.train, and the global batch against the devices and processes."""
  t = config.train
  _positive_int(config, 'train.batch_size')
  for name in ('g_lr', 'd_lr'):
    _positive_real(config, f'train.{name}')
  _in_unit(config, 'train.b1')
  _in_unit(config, 'train.b2')
  _in_unit(config, 'train.g_ema_decay')
  _positive_int(config, 'train.g_steps_per_d_step')
  if not _is_real(t.g_boost_start) or t.g_boost_start < 0:
    _fail('train.g_boost_start', t.g_boost_start,
          'must be >= 0 (a fraction of training; > 1 = never)')
  for name in ('num_steps', 'num_epochs'):
    if not _is_int(t[name]):
      _fail(f'train.{name}', t[name], 'must be an integer (<= 0 = unset)')
  if t.num_steps <= 0 and t.num_epochs <= 0:
    raise cli.ConfigError('Set config.train.num_steps > 0 or '
                          'config.train.num_epochs > 0 (both are <= 0).')
  for name in ('log_every', 'checkpoint_every', 'image_summary_every'):
    if not _is_int(t[name]):
      _fail(f'train.{name}', t[name], 'must be an integer (<= 0 = only at '
            'the last step)')
  _positive_int(config, 'train.keep_checkpoints')
  if 'preemption_grace_secs' in t:
    _positive_real(config, 'train.preemption_grace_secs')
  for count, what in ((num_devices, 'devices'), (num_processes, 'processes')):
    if count and t.batch_size % count:
      raise cli.ConfigError(
          f'config.train.batch_size {t.batch_size} (the global batch) is not '
          f'divisible by the {count} {what}; use a multiple of {count}.')


def check_reader(config: ml_collections.ConfigDict) -> None:
  """config.reader (read only when loss.lambda_reader > 0)."""
  if config.loss.lambda_reader > 0:
    _positive_real(config, 'reader.epochs')
    _positive_real(config, 'reader.lr')


def check_stage1(config: ml_collections.ConfigDict,
                 num_devices: Optional[int] = None,
                 num_processes: Optional[int] = None) -> None:
  """What `train.train_gan` needs: model, loss, reader and train sections."""
  check_model(config)
  check_loss(config)
  check_reader(config)
  check_train(config, num_devices, num_processes)


def check_data(config: ml_collections.ConfigDict) -> None:
  """config.data and config.augment."""
  d = config.data
  if d.name not in DATASETS:
    _fail('data.name', d.name, f'must be one of {", ".join(DATASETS)}')
  if not isinstance(d.dir, str):
    _fail('data.dir', d.dir, 'must be a path (a string; "" = workdir/data)')
  _positive_int(config, 'data.num_workers', minimum=0)
  _positive_int(config, 'data.prefetch_buffer_size')
  _positive_int(config, 'data.read_threads')
  _positive_int(config, 'data.keep_decoded_mib', minimum=0)
  _positive_int(config, 'data.keep_crops_mib', minimum=0)
  if d.name == 'synthetic':
    _positive_int(config, 'data.synthetic_identities', minimum=2)
    _positive_int(config, 'data.synthetic_seed', minimum=0)
    pre = d.synthetic_pretrain_identities
    if not _is_int(pre) or pre == 1 or pre < 0:
      _fail('data.synthetic_pretrain_identities', pre,
            'must be 0 (no pre-training set) or an integer >= 2')
  a = config.augment
  if not _is_real(a.margin_ratio) or a.margin_ratio < 1:
    _fail('augment.margin_ratio', a.margin_ratio,
          'must be >= 1 (stored faces are at least the crop size)')
  rotations = tuple(a.rotations)
  if not rotations or not all(_is_real(r) and abs(r) < 90 for r in rotations):
    _fail('augment.rotations', rotations,
          'must be a non-empty list of angles in degrees, |angle| < 90')
  if not _is_real(a.stage1_gain) or not 0 <= a.stage1_gain <= 1:
    _fail('augment.stage1_gain', a.stage1_gain,
          'must be a log-gain range in [0, 1] (0 = no gain jitter)')
  if not _is_real(a.stage1_shift) or not 0 <= a.stage1_shift <= 128:
    _fail('augment.stage1_shift', a.stage1_shift,
          'must be a shift range in grey levels, in [0, 128] (0 = none)')


def check_stage2(config: ml_collections.ConfigDict) -> None:
  """config.stage2: epochs, learning rates, batch sizes, dropout, widths."""
  s = config.stage2
  for name in ('mlp_epochs', 'baseline_epochs'):
    _positive_int(config, f'stage2.{name}', minimum=0)
  for name in ('mlp_lr', 'baseline_lr'):
    _positive_real(config, f'stage2.{name}')
  for name in ('mlp_batch_size', 'baseline_batch_size'):
    _positive_int(config, f'stage2.{name}')
  _in_unit(config, 'stage2.dropout')
  hidden = tuple(s.mlp_hidden)
  if not all(_is_int(h) and h > 0 for h in hidden):
    _fail('stage2.mlp_hidden', hidden, 'must be a list of positive widths')


def check_protocol(config: ml_collections.ConfigDict) -> None:
  """config.protocol: fold count, the folds to run, the pre-trained run
  (required for data without identities, WITHOUT_IDENTITIES)."""
  p = config.protocol
  _positive_int(config, 'protocol.num_folds')
  folds = tuple(p.folds)
  if not all(_is_int(k) and 0 <= k < p.num_folds for k in folds):
    _fail('protocol.folds', folds,
          f'must list folds in 0..{p.num_folds - 1} (() = all)')
  pretrains = (bool(p.pretrain_data_dir)
               or loading.wants_synthetic_pretraining(config))
  if p.pretrained_checkpoint and pretrains:
    raise cli.ConfigError(
        'config.protocol.pretrained_checkpoint and a pre-training set '
        '(protocol.pretrain_data_dir or data.synthetic_pretrain_identities) '
        'are both given; choose one.')
  if p.freeze_pretrained and not (p.pretrained_checkpoint or pretrains):
    raise cli.ConfigError('config.protocol.freeze_pretrained is set but '
                          'config.protocol.pretrained_checkpoint is empty.')
  if (config.data.name in WITHOUT_IDENTITIES
      and not (p.pretrained_checkpoint or pretrains)):
    raise cli.ConfigError(
        f'config.data.name {config.data.name!r} has no identity labels, so '
        'stage 1 trained on it from scratch pairs every face with itself '
        '(x_t = x_tg) and f(e) learns no expression; set config.protocol.'
        'pretrained_checkpoint or config.protocol.pretrain_data_dir (stage 1 '
        'of a set with identities, e.g. BU-4DFE; configs/sfew.py).')


def check_config(config: ml_collections.ConfigDict, *,
                 num_devices: Optional[int] = None,
                 num_processes: Optional[int] = None) -> None:
  """Every section; raises ConfigError (one line, the field named).

  Args:
    config: the run's config (configs/default.py schema).
    num_devices: devices of the whole run (jax.device_count()); the global
      batch must split evenly over them. None = not checked.
    num_processes: processes of the run (jax.process_count()); each feeds
      batch_size / num_processes examples. None = not checked.
  """
  if not _is_int(config.seed) or config.seed < 0:
    _fail('seed', config.seed, 'must be an integer >= 0')
  check_data(config)
  check_stage1(config, num_devices, num_processes)
  check_stage2(config)
  check_protocol(config)
