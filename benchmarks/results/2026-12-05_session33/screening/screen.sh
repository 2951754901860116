#!/bin/bash
# usage: [ENV...] screen.sh TREE NAME [overrides...]: the demo's stage 1 on the pre-training people with TREE's code, then strength diagnostics at 500/1000/1500 and session 19's probe (fold 0)
HERE=$(cd $(dirname $0) && pwd); wt=$1; name=$2; shift 2
cd $wt; R=/work/exp/s33/runs; mkdir -p $R; rm -rf $R/$name; s=$(date +%s)
PYTHONPATH=$wt /work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
for st in ${STEPS:-500 1000 1500}; do PYTHONPATH=$wt /work/main/.venv/bin/python $HERE/../../2026-12-05_session27/scripts/diag2.py $R/$name $st 2>&1 | grep '^{' >> $R/$name.log; done
# probe.py: session 19's scripts/probe.py with probe_vs_session19.patch applied
PYTHONPATH=$wt /work/main/.venv/bin/python $HERE/probe.py $R/$name /work/main/data/synthetic >> $R/$name.log 2>&1
echo DONE >> $R/$name.log
