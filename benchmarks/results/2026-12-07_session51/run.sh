#!/bin/bash
# run.sh NAME SEED [flags]: the demo's command (configs/synthetic.py) with flags, workdir /work/exp/s51/NAME.
name=$1; seed=$2; shift 2
cd ${WT:-/work/main}
start=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/s51/$name --config.seed=$seed "$@" \
  > /work/exp/s51/$name.log 2>&1
echo "rc=$? wall=$(( $(date +%s)-start )) $(date)" >> /work/exp/s51/$name.log
