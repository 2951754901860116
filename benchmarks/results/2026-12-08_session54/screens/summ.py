"""One compact block per run: the README/EXPERIMENTS figures."""
import json, re, sys
f2 = lambda x: f'{x:.2f}'
for run in sys.argv[1:]:
  d = json.load(open(run + '/report.json')); m = d['disentanglement']
  pf = lambda e: ' / '.join(f2(v) for v in e['per_fold'])
  acc = lambda k: f"{f2(d[k]['mean'])} ({' / '.join(f2(v) for v in d[k]['fold_accuracy'])})"
  r = m['retrieval']
  leak = m['identity_leakage']['relgan']
  by = m['by_source_expression']
  log = open(run + '.log').read() if not run.endswith('/') else ''
  fp = re.findall(r'fingerprint ([0-9a-f]+)', log)
  print(f"== {run}  fingerprint {fp[-1] if fp else '?'}  seconds {d['seconds']:.0f}")
  print(f"baseline {acc('baseline')} | relgan {acc('relgan')} | untrained {f2(d['untrained_ges']['mean'])}")
  print(f"retrieval f(e) {f2(r['relgan']['same_expression']['mean'])} / {f2(r['relgan']['same_person']['mean'])}; baseline {f2(r['baseline']['same_expression']['mean'])} / {f2(r['baseline']['same_person']['mean'])}")
  print(f"leak {f2(leak['mean'] if isinstance(leak, dict) else leak)} | transfer {f2(m['expression_transfer']['mean'])} ({pf(m['expression_transfer'])}) | kept {f2(m['identity_kept']['mean'])} ({pf(m['identity_kept'])}) / source {f2(m['identity_source']['mean'])}")
  print(f"strength {f2(m['expression_strength']['mean'])} | match {f2(m['expression_match']['mean'])} (photos {f2(m['expression_match_photos']['mean'])})")
  for k in d['class_names']:
    b = by[k]
    print(f"  {k:9s} tr {b['expression_transfer']['mean']:.1f} st {b['expression_strength']['mean']:.1f} ma {b['expression_match']['mean']:.1f}")
  for line in re.findall(r'.*(?:Expression reader trained in|Stage 1 finished|stage 1: step 1800|Elapsed).*', log)[-4:]:
    print('  ', line[-110:])
