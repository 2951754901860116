"""The protocol's report: report.json, report.md and the two figures (DESIGN §9).

Paper names used here: `Ges` (expression encoder), `Get` (identity encoder),
`Gde` (decoder), `x_s` (source face, gives the expression), `x_t` (target face,
gives the identity) and `f(e) = Ges(x)` (the expression code).

`summarize` turns the per-fold results written by `relgan_jax.evaluation.protocol` into the
report dictionary, whose keys are exactly:

  dataset, num_folds, class_names,
  relgan        {fold_accuracy: [%...], mean: %, std: %},
  baseline      {fold_accuracy: [%...], mean: %, std: %},
  untrained_ges {fold_accuracy: [%...], mean: %, std: %} (the same MLP on
                f(e) of the Ges stage 1 starts from: what stage 1 adds),
  confusion_matrix   (summed over folds, REL-GAN; rows = true, cols = predicted),
  identity_leakage   {relgan: %, baseline: %, chance: %} (means over folds),
  disentanglement    (relgan_jax/evaluation/disentanglement.py), each value a measure
                     M = {per_fold: [%... or None], mean: %, std: %}:
    retrieval        {relgan, baseline, untrained_ges, chance}:
                     {same_expression: M, same_person: M},
    identity_leakage {relgan, baseline, untrained_ges, chance}: M,
    expression_transfer, baseline_real_accuracy, expression_chance,
    identity_kept, identity_source, identity_chance, expression_strength,
    expression_match, expression_match_chance, expression_match_photos,
    num_pairs: M,
    by_source_expression {class name: {expression_transfer: M,
                     expression_strength: M, expression_match: M,
                     expression_match_photos: M}} (the reenactment grid's
                     rows),
  config (the full config used), seconds.

Folds written before a measure existed (a resumed run) count as None there:
means and standard deviations are over the folds that have it.

`write_report` writes it as report.json, a Markdown table like the paper's
(report.md), confusion_matrix.png and, when given, reenactment_grid.png.
Standard deviations are sample standard deviations over folds (0 for one fold).
"""

import json
import math
import os
from typing import Any, Optional, Sequence, Union

import numpy as np

from relgan_jax.evaluation import run_files

REPORT_KEYS = (
    'dataset', 'num_folds', 'class_names', 'relgan', 'baseline',
    'untrained_ges', 'confusion_matrix', 'identity_leakage', 'disentanglement',
    'config', 'seconds')
FEATURE_SETS = ('relgan', 'baseline', 'untrained_ges')
REENACTMENT_KEYS = ('expression_transfer', 'baseline_real_accuracy',
                    'expression_chance', 'identity_kept', 'identity_source',
                    'identity_chance', 'expression_strength',
                    'expression_match', 'expression_match_chance',
                    'expression_match_photos', 'num_pairs')
BY_CLASS_KEYS = ('expression_transfer', 'expression_strength',
                 'expression_match', 'expression_match_photos')


def _mean_std(values: Sequence[float]) -> tuple[Optional[float], Optional[float]]:
  """Mean and sample std of `values`; (None, None) when empty."""
  values = [float(v) for v in values if v is not None]
  if not values:
    return None, None
  std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
  return float(np.mean(values)), std


def _summary(accuracies: Sequence[Optional[float]]) -> dict[str, Any]:
  mean, std = _mean_std(accuracies)
  return {'fold_accuracy': [None if a is None else float(a)
                            for a in accuracies],
          'mean': mean, 'std': std}


def _dig(result: dict[str, Any], *path: Union[str, int]) -> Optional[float]:
  """result[path[0]][path[1]]... (an int indexes a list); None where a level
  is missing or None."""
  for key in path:
    if isinstance(key, int) and isinstance(result, list):
      result = result[key] if key < len(result) else None
    elif isinstance(result, dict):
      result = result.get(key)
    else:
      result = None
    if result is None:
      return None
  return float(result)


def _measure(fold_results: Sequence[dict[str, Any]], *path: Union[str, int]
             ) -> dict[str, Any]:
  """{per_fold, mean, std} of the value at `path` of every fold."""
  values = [_dig(r, *path) for r in fold_results]
  mean, std = _mean_std(values)
  return {'per_fold': values, 'mean': mean, 'std': std}


def _disentanglement(fold_results: Sequence[dict[str, Any]],
                     class_names: Sequence[str]) -> dict[str, Any]:
  """The report's 'disentanglement' block (see the module docstring)."""
  block = {
      'retrieval': {name: {key: _measure(fold_results, 'retrieval', name, key)
                           for key in ('same_expression', 'same_person')}
                    for name in FEATURE_SETS + ('chance',)},
      'identity_leakage': {name: _measure(fold_results, 'identity_leakage',
                                          name)
                           for name in FEATURE_SETS + ('chance',)}}
  for key in REENACTMENT_KEYS:
    block[key] = _measure(fold_results, 'reenactment', key)
  block['by_source_expression'] = {
      name: {key: _measure(fold_results, 'reenactment', f'{key}_by_class', c)
             for key in BY_CLASS_KEYS}
      for c, name in enumerate(class_names)}
  return block


def _config_dict(config) -> dict[str, Any]:
  """The config as plain JSON data (ConfigDict or dict)."""
  if hasattr(config, 'to_json_best_effort'):
    return json.loads(config.to_json_best_effort())
  return json.loads(json.dumps(config, default=str))


def summarize(fold_results: Sequence[dict[str, Any]], config, *,
              dataset_name: str, class_names: Sequence[str],
              seconds: float) -> dict[str, Any]:
  """Builds the report dictionary from per-fold results.

  Args:
    fold_results: one dict per fold, in fold order, as written by
      `protocol.run_fold`: {'fold', 'relgan': {'accuracy', 'confusion_matrix'},
      'baseline': {'accuracy', 'confusion_matrix'} or None,
      'identity_leakage': {'relgan', 'baseline', 'untrained_ges', 'chance'},
      and (absent in results from before issue 14) 'untrained_ges':
      {'accuracy'}, 'retrieval', 'reenactment' as `disentanglement.run_fold`
      writes them}; accuracies in %.
    config: the config used (ConfigDict).
    dataset_name: the manifest's dataset name.
    class_names: expression class names (index = label).
    seconds: wall seconds of the whole protocol.

  Returns:
    The report dictionary with exactly `REPORT_KEYS`.

  Raises:
    ValueError: no folds, or a confusion matrix of the wrong shape.
  """
  if not fold_results:
    raise ValueError('summarize: no fold results to report.')
  num_classes = len(class_names)
  confusion = np.zeros((num_classes, num_classes), np.int64)
  for result in fold_results:
    cm = np.asarray(result['relgan']['confusion_matrix'], np.int64)
    if cm.shape != confusion.shape:
      raise ValueError(
          f'fold {result.get("fold")}: confusion matrix has shape {cm.shape}, '
          f'expected {confusion.shape} for classes {list(class_names)}.')
    confusion += cm
  baseline_results = [r['baseline'] for r in fold_results if r.get('baseline')]
  leakage = {}
  for key in ('relgan', 'baseline', 'chance'):
    leakage[key], _ = _mean_std(
        [r['identity_leakage'][key] for r in fold_results
         if r.get('identity_leakage')])
  report = {
      'dataset': dataset_name,
      'num_folds': len(fold_results),
      'class_names': list(class_names),
      'relgan': _summary([r['relgan']['accuracy'] for r in fold_results]),
      'baseline': _summary([b['accuracy'] for b in baseline_results]),
      'untrained_ges': _summary([_dig(r, 'untrained_ges', 'accuracy')
                                 for r in fold_results]),
      'confusion_matrix': confusion.tolist(),
      'identity_leakage': leakage,
      'disentanglement': _disentanglement(fold_results, class_names),
      'config': _config_dict(config),
      'seconds': float(seconds),
  }
  assert tuple(report) == REPORT_KEYS
  return report


def _pct(value: Optional[float], std: Optional[float] = None) -> str:
  if value is None or (isinstance(value, float) and math.isnan(value)):
    return 'n/a'
  if std is None:
    return f'{value:.2f}'
  return f'{value:.2f} ± {std:.2f}'


def _stage1_line(protocol: dict[str, Any]) -> str:
  """Where each fold's Ges came from (report.json's config.protocol)."""
  checkpoint = protocol.get('pretrained_checkpoint')
  if not checkpoint:
    return "Stage 1: trained for each fold on the fold's training subjects."
  how = ('frozen' if protocol.get('freeze_pretrained')
         else "fine-tuned for each fold on the fold's training subjects")
  return f'Stage 1: pre-trained at {checkpoint}, {how}.'


def _row(cells: Sequence[str]) -> str:
  return '| ' + ' | '.join(cells) + ' |'


def _measure_cells(m: dict[str, Any]) -> list[str]:
  """mean ± std, then one cell per fold."""
  return [_pct(m['mean'], m['std'])] + [_pct(v) for v in m['per_fold']]


def _views_line(config: dict[str, Any]) -> str:
  views = config.get('stage2', {}).get('mlp_augment_views')
  if views is None:
    return ''
  if not views:
    return 'The MLPs train on f(e) of the training images\' centre crops.'
  augment = config.get('augment', {})  # Absent: the defaults, all three.
  kinds = [kind for kind, on in (
      ('crop place', augment.get('five_crops', True)),
      ('rotation', any(augment.get('rotations', (3.0,)))),
      ('flip', augment.get('flip', True))) if on]
  return ('The MLPs train on f(e) of every training image\'s centre crop and '
          f'{views} augmented views of it ({", ".join(kinds) or "none"}: the '
          'augmentation the CNN baseline trains on); test images are centre '
          'crops.')


def _disentanglement_md(block: dict[str, Any], folds: Sequence[int]
                        ) -> list[str]:
  """The 'Disentanglement' section (retrieval, leakage, reenactment)."""
  def head(what):
    return ([f'| measure | {what} | mean ± std | '
             + ' | '.join(f'fold {f}' for f in folds) + ' |',
             '| --- | --- | --- | ' + ' | '.join('---' for _ in folds) + ' |'])

  names = (('relgan', 'REL-GAN f(e)'), ('baseline', 'CNN baseline penultimate'),
           ('untrained_ges', 'untrained Ges f(e)'), ('chance', 'chance'))
  lines = ['## Disentanglement (%)', '',
           'Retrieval: for each test image (people no model of the fold has '
           'seen), its nearest other test image in feature space (features '
           'standardised with the training split\'s mean/std). An expression '
           'code should find the same expression (higher is better) and not '
           'the same person (lower is better). Identity leakage: the linear '
           'probe above. Untrained Ges: the Ges stage 1 starts from.', '']
  lines += head('features')
  rows = (('NN same expression (↑)', block['retrieval'], 'same_expression'),
          ('NN same person (↓)', block['retrieval'], 'same_person'),
          ('identity leakage (↓)', block['identity_leakage'], None))
  for title, table, key in rows:
    for name, label in names:
      m = table[name][key] if key else table[name]
      lines.append(_row([title, label] + _measure_cells(m)))
  pairs = [int(v) for v in block['num_pairs']['per_fold'] if v is not None]
  lines += ['', 'Reenactment x̄ = Gde(Ges(x_s), Get(x_t)) with x_s and x_t of '
            f'different test people ({", ".join(map(str, pairs)) or "no"} '
            'pairs per fold). Expression transfer: how often the fold\'s CNN '
            'baseline reads x̄ as x_s\'s expression (its accuracy on the real '
            'test images is the ceiling). Identity: how often x̄\'s nearest '
            'real test image in coarse pixels (16×16 RGB, standardised) is '
            'x_t\'s person (kept) or x_s\'s person (source); chance = x_t\'s '
            'person\'s share of the test images. Expression strength: each '
            'test person kept as one neutral x_t, how much of their own photos\' '
            'change between expressions x̄ draws as x_s\'s expression changes '
            '(class means, projected in pixels; 100 = as in the photos). '
            'Expression match: how often that drawn change points (cosine in '
            'pixels) to the person\'s own change for x_s\'s expression rather '
            'than for another: expression transfer without a classifier; '
            'on the photos themselves (one half\'s change against the other '
            'half\'s) photo-to-photo differences keep it below 100 for the '
            'subtlest expressions.',
            ''] + head('of')
  for title, label, key in (
      ('expression transfer (↑)', 'x̄ read by the CNN baseline',
       'expression_transfer'),
      ('expression transfer', 'real test images (baseline accuracy)',
       'baseline_real_accuracy'),
      ('expression transfer', 'chance (1/Ne)', 'expression_chance'),
      ('identity kept (↑)', 'x̄ nearest to x_t\'s person', 'identity_kept'),
      ('identity source (↓)', 'x̄ nearest to x_s\'s person',
       'identity_source'),
      ('identity', 'chance', 'identity_chance'),
      ('expression strength (↑)', 'x̄ against x_t\'s person\'s photos',
       'expression_strength'),
      ('expression match (↑)', 'x̄\'s change against the photos\' changes',
       'expression_match'),
      ('expression match', 'the person\'s photos, half against half',
       'expression_match_photos'),
      ('expression match', 'chance (1/K)', 'expression_match_chance')):
    lines.append(_row([title, label] + _measure_cells(block[key])))
  by_class = block.get('by_source_expression') or {}
  if any(m['mean'] is not None for row in by_class.values()
         for m in row.values()):
    lines += ['', 'By x_s\'s expression (the rows of the reenactment grid): '
              'expression transfer of the x̄ drawn from sources showing it, '
              'its expression strength (the measure above restricted to '
              'that expression: how far those x̄ depart from the person\'s '
              'mean x̄ the way their own photos of it depart from their mean '
              'photo) and its expression match (beside the photos\' own).',
              '', '| x_s expression | expression transfer (↑) | '
              'expression strength (↑) | expression match (↑) | '
              'expression match of the photos |',
              '| --- | --- | --- | --- | --- |']
    for name, row in by_class.items():
      lines.append(_row([name] + [
          _pct(row[key]['mean'], row[key]['std']) for key in BY_CLASS_KEYS]))
  return lines + ['']


def markdown(report: dict[str, Any],
             fold_results: Sequence[dict[str, Any]]) -> str:
  """The report as Markdown: the paper's table, leakage, disentanglement."""
  folds = [r.get('fold', i) for i, r in enumerate(fold_results)]
  config = report.get('config', {})
  lines = [f'# REL-GAN on {report["dataset"]}', '',
           f'{report["num_folds"]} fold(s) (folds {folds}), '
           f'{len(report["class_names"])} classes: '
           f'{", ".join(report["class_names"])}. '
           f'Subject-independent: no test subject is seen in training.', '',
           _stage1_line(config.get('protocol', {})), '',
           '## Expression recognition accuracy (%)', '',
           '| method | mean ± std | ' + ' | '.join(f'fold {f}' for f in folds)
           + ' |',
           '| --- | --- | ' + ' | '.join('---' for _ in folds) + ' |']
  rows = (('CNN (baseline)', 'baseline'), ('REL-GAN (MLP on f(e))', 'relgan'),
          ('untrained Ges (MLP on its f(e))', 'untrained_ges'))
  for title, key in rows:
    summary = report.get(key) or {'fold_accuracy': []}
    if all(a is None for a in summary['fold_accuracy']):
      lines.append(f'| {title} | not run | ' +
                   ' | '.join('' for _ in folds) + ' |')
      continue
    lines.append(f'| {title} | {_pct(summary["mean"], summary["std"])} | '
                 + ' | '.join(_pct(a) for a in summary['fold_accuracy'])
                 + ' |')
  views = _views_line(config)
  if views:
    lines += ['', views]
  leak = report['identity_leakage']
  untrained = (report.get('disentanglement') or {}).get(
      'identity_leakage', {}).get('untrained_ges', {}).get('mean')
  lines += ['', '## Identity leakage (linear probe accuracy, %; lower is better)',
            '',
            'A softmax-regression probe predicts identity from the features; '
            'it is trained and tested on disjoint images of the fold\'s '
            'training identities.', '',
            '| features | identity accuracy |', '| --- | --- |',
            f'| CNN baseline penultimate | {_pct(leak["baseline"])} |',
            f'| REL-GAN f(e) | {_pct(leak["relgan"])} |',
            f'| untrained Ges f(e) | {_pct(untrained)} |',
            f'| chance | {_pct(leak["chance"])} |', '']
  if report.get('disentanglement'):
    lines += _disentanglement_md(report['disentanglement'], folds)
  lines += [f'Wall time: {report["seconds"]:.0f} s.', '']
  return '\n'.join(lines)


def plot_confusion_matrix(confusion: np.ndarray, class_names: Sequence[str],
                          path: str, *, baseline: Optional[np.ndarray] = None):
  """Saves the summed confusion matrix (row-normalised colours, counts)."""
  panels = [('REL-GAN (MLP on f(e))', np.asarray(confusion))]
  if baseline is not None:
    panels.append(('CNN baseline', np.asarray(baseline)))
  n = len(class_names)
  size = 1.0 + 0.55 * n
  # A Figure without pyplot (as reenactment.plot_reenactment_grid).
  from matplotlib.figure import Figure  # pylint: disable=g-import-not-at-top
  fig = Figure(figsize=(size * len(panels), size))
  axes = fig.subplots(1, len(panels), squeeze=False)
  for ax, (title, cm) in zip(axes[0], panels):
    rows = cm.sum(axis=1, keepdims=True)
    frac = cm / np.maximum(rows, 1)
    ax.imshow(frac, cmap='Blues', vmin=0.0, vmax=1.0)
    for i in range(n):
      for j in range(n):
        ax.text(j, i, str(int(cm[i, j])), ha='center', va='center',
                fontsize=8, color='white' if frac[i, j] > 0.5 else 'black')
    acc = 100.0 * np.trace(cm) / max(cm.sum(), 1)
    ax.set_title(f'{title}\naccuracy {acc:.1f}%', fontsize=10)
    ax.set_xticks(range(n), class_names, rotation=45, ha='right', fontsize=8)
    ax.set_yticks(range(n), class_names, fontsize=8)
    ax.set_xlabel('predicted')
    ax.set_ylabel('true')
  fig.tight_layout()
  fig.savefig(path, dpi=110)


def _write_atomic(path: str, text: str):
  tmp = path + '.tmp'
  with open(tmp, 'w') as f:
    f.write(text)
  os.replace(tmp, path)


def write_report(workdir: str, fold_results: Sequence[dict[str, Any]], config,
                 *, dataset_name: str, class_names: Sequence[str],
                 seconds: float) -> dict[str, Any]:
  """Writes report.json, report.md and confusion_matrix.png into `workdir`.

  The reenactment grid is drawn per fold by the protocol (it needs the
  generator); this function copies nothing else.

  Returns:
    The report dictionary (see `summarize`).
  """
  os.makedirs(workdir, exist_ok=True)
  report = summarize(fold_results, config, dataset_name=dataset_name,
                     class_names=class_names, seconds=seconds)
  _write_atomic(os.path.join(workdir, run_files.REPORT_JSON),
                json.dumps(report, indent=2) + '\n')
  _write_atomic(os.path.join(workdir, 'report.md'),
                markdown(report, fold_results))
  baseline_cms = [np.asarray(r['baseline']['confusion_matrix'])
                  for r in fold_results if r.get('baseline')]
  plot_confusion_matrix(
      np.asarray(report['confusion_matrix']), class_names,
      os.path.join(workdir, 'confusion_matrix.png'),
      baseline=sum(baseline_cms) if baseline_cms else None)
  return report
