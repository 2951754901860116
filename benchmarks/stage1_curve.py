r"""f(e) quality along stage 1: accuracy and retrieval at every kept checkpoint.

For each checkpoint of a stage-1 run (e.g. the pre-training of
configs/synthetic_full.py, which keeps one every 1,000 iterations), exports
Ges, trains the stage-2 MLP on f(e) of each fold's training people (centre
crops + config.stage2.mlp_augment_views augmented views, as the protocol does)
and measures it on the fold's unseen people; also nearest-neighbour retrieval
in f(e) (relgan_jax.evaluation.disentanglement.retrieval) and, with
--transfer (the default), the reenactment measures of the report
(disentanglement.reenactment_measures: expression transfer read by the fold's
CNN baseline, trained once per fold as the protocol trains it, and identity
kept, expression strength). Writes JSON and a PNG:

  python -m benchmarks.stage1_curve --config=configs/synthetic_full.py \
      --stage1_dir=runs/synthetic_full/pretrain --data_dir=data/synthetic \
      --out=benchmarks/results/stage1_curve

Only for looking at a run: nothing here trains G or D.
"""

import json
import os
import tempfile

from absl import flags
from ml_collections import config_flags
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from relgan_jax import cli  # noqa: E402
from relgan_jax.data import loading  # noqa: E402
from relgan_jax.data import folds as folds_lib  # noqa: E402
from relgan_jax.data import records  # noqa: E402
from relgan_jax.evaluation import baseline as baseline_lib  # noqa: E402
from relgan_jax.evaluation import disentanglement  # noqa: E402
from relgan_jax.evaluation import features  # noqa: E402
from relgan_jax.evaluation import run_files  # noqa: E402
from relgan_jax.evaluation import stage2  # noqa: E402
from relgan_jax.stage1 import checkpointing  # noqa: E402
from relgan_jax.stage1 import gan_steps  # noqa: E402

config_flags.DEFINE_config_file('config', None, 'The run config.',
                                lock_config=True)
flags.DEFINE_string('stage1_dir', None, 'A stage-1 workdir.', required=True)
flags.DEFINE_string('data_dir', None, 'The evaluated prepared set.',
                    required=True)
flags.DEFINE_string('out', 'stage1_curve', 'Output path without extension '
                    '(.json and .png; never replaced without --overwrite).')
flags.DEFINE_bool('overwrite', False, 'Replace --out.json and --out.png if '
                  'they exist.')
flags.DEFINE_list('folds', ['0', '1'], 'Folds to evaluate.')
flags.DEFINE_bool('transfer', True, 'Also measure expression transfer and '
                  'identity kept at every checkpoint (trains each fold\'s '
                  'CNN baseline once).')
FLAGS = flags.FLAGS


def checkpoint_steps(stage1_dir: str) -> list[int]:
  root = checkpointing.checkpoint_dir(stage1_dir)
  return sorted(int(d) for d in os.listdir(root) if d.isdigit())


def fold_split(config, dataset, fold: int):
  """The fold's (train, test) records as the protocol selects them."""
  train_idx, test_idx = folds_lib.split_indices(dataset, fold)
  return (loading.select_records(dataset, train_idx, config),
          loading.select_records(dataset, test_idx, config))


def evaluate(config, dataset, g_variables, fold: int, seed: int,
             baseline=None) -> dict:
  with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, 'encoder')
    run_files.export_encoder(g_variables['params'], config, path,
                             g_batch_stats=g_variables.get('batch_stats'))
    module, variables = run_files.load_encoder(path,
                                                   return_variables=True)
  encode = features.ges_encoder_fn(module, variables)
  train_idx, test_idx = fold_split(config, dataset, fold)
  train = features.extract_features(encode, dataset, train_idx, config)
  test = features.extract_features(encode, dataset, test_idx, config)
  views = features.augmented_features(
      encode, dataset, train_idx, config,
      views=config.stage2.mlp_augment_views, seed=seed)
  num_classes = len(dataset.expression_classes)
  mlp = stage2.train_mlp(train, num_classes, config, seed=seed,
                         augmented=views)
  acc, _ = stage2.accuracy_and_confusion(
      test.expression, mlp.logits(test.f).argmax(-1), num_classes)
  result = {'accuracy': acc}
  mean, std = stage2.standardizer(train.f)
  result.update(disentanglement.retrieval(test.f, test.expression,
                                          test.identity, mean, std))
  if baseline is not None:
    found = disentanglement.fold_reenactment(
        config, dataset, test_idx, test, g_variables, baseline,
        num_classes=num_classes, seed=seed)
    result.update({key: found[key] for key in (
        'expression_transfer', 'identity_kept', 'expression_strength')})
    # The ceiling of the transfer and the bar of the accuracy.
    result['baseline_accuracy'] = found['baseline_real_accuracy']
  return result


def plot(rows: list[dict], path: str) -> None:
  """The curve's PNG: every measure in `rows` against the iterations."""
  fig, ax = plt.subplots(figsize=(9, 3.6))
  steps = [r['step'] for r in rows]
  ax.plot(steps, [r['accuracy'] for r in rows], 'o-',
          label='MLP on f(e), unseen people')
  for key, style, label in (
      ('same_expression', 's--', 'nearest neighbour: same expression'),
      ('same_person', '^:', 'nearest neighbour: same person'),
      ('expression_transfer', 'D-', 'expression transfer (baseline reads x̄)'),
      ('identity_kept', 'v:', 'identity kept (x̄ nearest to x_t\'s person)'),
      ('expression_strength', 'P-',
       'expression strength (x̄ against the person\'s photos)')):
    if rows[0].get(key) is not None:
      ax.plot(steps, [np.nan if r[key] is None else r[key] for r in rows],
              style, label=label)
  if 'baseline_accuracy' in rows[0]:  # The same for every checkpoint.
    ax.axhline(rows[0]['baseline_accuracy'], color='grey', ls='--', lw=1,
               label='CNN baseline on real test faces')
  ax.set_xlabel('stage-1 iterations')
  ax.set_ylabel('%')
  ax.set_ylim(0, 100)
  ax.grid(alpha=0.3)
  ax.legend(fontsize=8, loc='upper left', bbox_to_anchor=(1.01, 1.0))
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def main(argv):
  del argv
  for ext in ('.json', '.png'):  # Before the work, not after it.
    cli.check_new_output('out', FLAGS.out + ext, FLAGS.overwrite)
  config = FLAGS.config
  dataset = records.PreparedDataset(FLAGS.data_dir)
  folds = [int(k) for k in FLAGS.folds]
  baselines = {k: None for k in folds}
  if FLAGS.transfer:  # As the protocol trains it: the fold's seed.
    baselines = {k: baseline_lib.train_baseline(
        config, dataset, fold_split(config, dataset, k)[0],
        len(dataset.expression_classes), seed=config.seed + k) for k in folds}
  rows = []
  for step in checkpoint_steps(FLAGS.stage1_dir):
    state, _ = checkpointing.load_state_tree(
        os.path.join(checkpointing.checkpoint_dir(FLAGS.stage1_dir),
                     str(step)))
    per_fold = [evaluate(config, dataset, gan_steps.g_variables(state), k,
                         config.seed + k, baselines[k]) for k in folds]
    row = {'step': step}
    for key in per_fold[0]:  # None: not measurable here (e.g. strength).
      found = [r[key] for r in per_fold if r[key] is not None]
      row[key] = float(np.mean(found)) if found else None
    rows.append(row)
    print(json.dumps(row), flush=True)
  os.makedirs(os.path.dirname(os.path.abspath(FLAGS.out)), exist_ok=True)
  with open(FLAGS.out + '.json', 'w') as f:
    json.dump({'stage1_dir': FLAGS.stage1_dir, 'folds': FLAGS.folds,
               'rows': rows}, f, indent=1)
  plot(rows, FLAGS.out + '.png')
  print(f'wrote {FLAGS.out}.json and .png')


if __name__ == '__main__':
  cli.absl_run('benchmarks.stage1_curve', main,
                 user_errors=(FileNotFoundError,))
