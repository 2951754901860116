"""Bytes each op of the stage-1 iteration reads and writes, before fusion (session 22).

usage: PYTHONPATH=. python benchmarks/results/2026-12-04_session22/unfused_bytes.py \
    --batch=256 --image_size=96 --width=1.0 --dtype=bfloat16 --ne=6 --ni=101 --conv_impl=xla
"""
import sys, re, collections
from absl import flags
from benchmarks import bench_step, stage1_programs
FLAGS = flags.FLAGS
FLAGS(sys.argv)
import jax
config = bench_step.config_from_flags()
stage1 = stage1_programs.setup(config, ne=FLAGS.ne, ni=FLAGS.ni, devices=jax.devices()[:1])
txt = stage1.steps.iteration.lower(stage1.state, stage1.batch).as_text()

B={'bf16':2,'f32':4,'i32':4,'ui8':1,'i1':1,'ui32':4}
def tbytes(t):
  m=re.match(r'tensor<([\dx]*)x?(bf16|f32|i32|ui8|i1|ui32)>',t)
  if not m: return 0
  n=1
  for d in m.group(1).split('x'):
    if d: n*=int(d)
  return n*B[m.group(2)]
tot=collections.Counter(); cnt=collections.Counter()
for line in txt.split('\n'):
  m=re.search(r'= stablehlo\.(\w+)',line)
  if not m: continue
  op=m.group(1)
  sig=re.search(r':\s*\((.*)\)\s*->\s*(tensor<[^>]*>)\s*$',line)
  if sig:
    ins=re.findall(r'tensor<[^>]*>',sig.group(1)); out=sig.group(2)
    b=sum(tbytes(t) for t in ins)+tbytes(out)
  else:
    ts=re.findall(r'tensor<[^>]*>',line)
    b=sum(tbytes(t) for t in ts)
  tot[op]+=b; cnt[op]+=1
S=sum(tot.values())
print('all ops (unfused) GB %.1f'%(S/1e9))
for k,v in tot.most_common(15): print('%8.2f GB n=%5d %s'%(v/1e9,cnt[k],k))
