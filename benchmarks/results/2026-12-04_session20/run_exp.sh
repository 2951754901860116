#!/bin/bash
# usage: WT=worktree run_exp.sh NAME [overrides...]  (stage 1 of the demo on the pre-training people, then probe.py)
name=$1; shift
WT=${WT:-/work/main}; cd $WT; export PYTHONPATH=$WT
R=/work/exp/s20/runs; mkdir -p $R; rm -rf $R/$name
start=$(date +%s)
/work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - start ))" >> $R/$name.log
/work/main/.venv/bin/python /work/exp/s20/probe.py $R/$name /work/main/data/synthetic $PROBE_ARGS >> $R/$name.log 2>&1
echo DONE >> $R/$name.log
