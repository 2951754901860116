import sys, collections
from absl import flags
from benchmarks import profile_step as ps
flags.FLAGS(['x', '--runs=10'])
d = sys.argv[1]; name = sys.argv[2]
idx = ps._hlo_index(open(f'{d}/{name}.hlo.txt').read())
times, _ = ps._op_times(d, 10, idx)
g = collections.defaultdict(float)
for op, ms in times.items():
  if op not in idx: continue
  shape, opn, kind = idx[op]
  layer = '/'.join(p for p in opn.split('/') if p.startswith(('conv', 'norm', 'head')))[:40]
  g[(kind, ('bwd ' if 'transpose(' in opn else 'fwd ') + layer)] += ms
for k, v in sorted(g.items(), key=lambda kv: -kv[1])[:30]:
  print(f'{v:7.1f} ms  {k}')
