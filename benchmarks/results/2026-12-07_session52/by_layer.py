"""Op time of a traced stage-1 iteration by network and direction: by_layer.py TRACE_DIR/iteration (profile_step --trace_dir)."""
import sys, re, collections
from absl import flags
from benchmarks import profile_step as ps
flags.FLAGS(['x', '--runs=10'])
d = sys.argv[1]
idx = ps._hlo_index(open(d + '/iteration.hlo.txt').read())
times, _ = ps._op_times(d, 10, idx)
groups = collections.defaultdict(float)
for op, ms in times.items():
  if op not in idx: continue
  name = idx[op][1]
  m = re.search(r'(transpose\()?(jvp\()?(\w+(?:\.\w+)?)\)*/(\w+)', name)
  key = name.split('/')[1:3] if name else ['?']
  bwd = 'bwd' if 'transpose(' in name else 'fwd'
  top = 'CNNBaseline' if 'CNNBaseline' in name else 'Discriminator' if 'Discriminator' in name else 'Ges' if '/Ges/' in name else 'Get' if '/Get/' in name else 'Gde' if '/Gde/' in name else 'other:' + '/'.join(name.split('/')[1:3])[:50]
  groups[(top, bwd)] += ms
tot = sum(groups.values())
for k, v in sorted(groups.items(), key=lambda kv: -kv[1])[:30]:
  print(f'{v:7.1f} ms {100*v/tot:5.1f}%  {k}')
print('total', tot)
