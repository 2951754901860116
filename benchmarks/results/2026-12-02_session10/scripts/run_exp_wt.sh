#!/bin/bash
# usage: run_exp.sh NAME [overrides...]
name=$1; shift
WT=${WT:-/work/exp_wt}; cd $WT; export PYTHONPATH=$WT
rm -rf /work/exp/runs/$name
mkdir -p /work/exp/runs
start=$(date +%s)
/work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/runs/$name --mode=train_gan \
  --config.data.dir=/work/exp/pre --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > /work/exp/runs/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - start ))" >> /work/exp/runs/$name.log
/work/main/.venv/bin/python /work/exp/s9/probe.py /work/exp/runs/$name /work/exp/eval $PROBE_ARGS >> /work/exp/runs/$name.log 2>&1
echo DONE >> /work/exp/runs/$name.log
