import json, sys
for path in sys.argv[1:]:
  r = json.load(open(path + '/report.json')); d = r['disentanglement']
  m = lambda x: round(x['mean'], 2)
  print(path, 'seconds', r.get('seconds'))
  print(' baseline', m(r['baseline']), 'relgan', m(r['relgan']), 'untrained', m(r['untrained_ges']),
        'NN expr/person', m(d['retrieval']['relgan']['same_expression']), m(d['retrieval']['relgan']['same_person']),
        'leak', m(d['identity_leakage']['relgan']), 'transfer', m(d['expression_transfer']),
        'kept', m(d['identity_kept']), 'strength', m(d['expression_strength']), 'match', m(d['expression_match']) if 'expression_match' in d else None)
  row = d['by_source_expression']
  print(' rows', {k: {kk: (round(vv['mean'], 1) if isinstance(vv, dict) else vv) for kk, vv in v.items()} for k, v in row.items()})
