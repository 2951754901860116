#!/bin/bash
# usage: screen_wt.sh WORKTREE NAME [overrides...]: screen.sh with another tree's code (probe_wt.py; PROBE_ARGS for its overrides)
wt=$1; name=$2; shift 2
cd $wt; R=/work/exp/s26/runs; rm -rf $R/$name; s=$(date +%s)
PYTHONPATH=$wt /work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
PYTHONPATH=$wt /work/main/.venv/bin/python /work/exp/s26/probe_wt.py $R/$name /work/main/data/synthetic $PROBE_ARGS >> $R/$name.log 2>&1
echo DONE >> $R/$name.log
