#!/bin/bash
# usage: full.sh WAIT_LOG WT NAME overrides... : synthetic_full end to end after WAIT_LOG's DONE.
wait_log=$1; wt=$2; name=$3; shift 3
while ! grep -q '^DONE' "$wait_log" 2>/dev/null; do sleep 10; done
cd $wt; export PYTHONPATH=$wt
start=$(date +%s)
/work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic_full.py --workdir=/work/exp/runs/$name "$@" > /work/exp/runs/$name.log 2>&1
echo "total seconds $(( $(date +%s) - start ))" >> /work/exp/runs/$name.log
echo DONE >> /work/exp/runs/$name.log
