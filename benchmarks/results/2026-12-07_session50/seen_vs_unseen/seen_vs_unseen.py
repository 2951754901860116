"""Strength, match and identity kept of the demo's G on people stage 1 trained on (the pre-training set) against the
unseen test people of fold 0 (the report's figures). Usage (repository root, PYTHONPATH=.):
  python seen_vs_unseen.py RUN_DIR"""
import json, sys, types
import numpy as np
from configs import synthetic
from relgan_jax.data import loading
from relgan_jax.evaluation import disentanglement, protocol
from relgan_jax.stage1 import checkpointing, gan_steps

run = sys.argv[1]
config = synthetic.get_config()
config.seed = 0
state, _ = checkpointing.load_state_tree(run + '/pretrain')
g = gan_steps.g_variables(state)
pre = protocol.load_pretrain_dataset(config, 'data/synthetic_pretrain')
idx = loading.select_records(pre, np.arange(len(pre)), config)
persons = np.asarray(pre.identities)[idx]
out = {}
for name, people in (('seen_a', np.unique(persons)[:32]), ('seen_b', np.unique(persons)[32:64])):
  chosen = idx[np.isin(persons, people)]
  test = types.SimpleNamespace(expression=np.asarray(pre.expressions)[chosen],
                               identity=np.asarray(pre.identities)[chosen])
  test.__len__ = None
  class F:  # len() and attributes, as stage2.Features gives them
    expression = test.expression; identity = test.identity
    def __len__(self): return len(self.expression)
  r = disentanglement.fold_reenactment(config, pre, chosen, F(), g, None, num_classes=7, seed=0)
  keep = {k: r[k] for k in ('identity_kept', 'expression_strength', 'expression_match', 'expression_match_photos')}
  keep['strength_by_class'] = [round(v, 1) if v is not None else None for v in r['expression_strength_by_class']]
  keep['match_by_class'] = [round(v, 1) if v is not None else None for v in r['expression_match_by_class']]
  out[name] = keep
  print(name, len(chosen), json.dumps(keep))
rep = json.load(open(run + '/report.json'))['disentanglement']
print('unseen (report, mean of 2 folds):', {k: round(rep[k]['mean'], 2) for k in ('identity_kept', 'expression_strength', 'expression_match', 'expression_match_photos')})
print('  strength by class:', {c: round(v['expression_strength']['mean'], 1) for c, v in rep['by_source_expression'].items()})

# The fold-0 test people (unseen), with G's moving average (what the report uses) and with the trained G itself.
from relgan_jax.data import folds as folds_lib, records
data = loading.open_prepared('data/synthetic', config)
_, test_idx = folds_lib.split_indices(data, 0)
test_idx = loading.select_records(data, test_idx, config)
class T:
  expression = np.asarray(data.expressions)[test_idx]; identity = np.asarray(data.identities)[test_idx]
  def __len__(self): return len(self.expression)
for averaged in (True, False):
  r = disentanglement.fold_reenactment(config, data, test_idx, T(), gan_steps.g_variables(state, averaged=averaged),
                                       None, num_classes=7, seed=0)
  print('fold 0 unseen, averaged G' if averaged else 'fold 0 unseen, trained G',
        json.dumps({k: round(r[k], 2) for k in ('identity_kept', 'expression_strength', 'expression_match')}),
        'strength by class', [round(v, 1) for v in r['expression_strength_by_class']],
        'match by class', [round(v, 1) for v in r['expression_match_by_class']])
