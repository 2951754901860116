#!/bin/bash
# usage: run_exp.sh NAME [overrides...]
name=$1; shift
cd /work/main
rm -rf /work/exp/runs/$name
mkdir -p /work/exp/runs
start=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/runs/$name --mode=train_gan \
  --config.data.dir=/work/exp/pre --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > /work/exp/runs/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - start ))" >> /work/exp/runs/$name.log
.venv/bin/python /work/exp/probe.py /work/exp/runs/$name /work/exp/eval >> /work/exp/runs/$name.log 2>&1
echo DONE >> /work/exp/runs/$name.log
