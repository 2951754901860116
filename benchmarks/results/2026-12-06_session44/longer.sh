#!/bin/bash
# longer.sh NAME SEED: the README's longer command (3,000 its + the reader) in $WT, workdir /work/exp/s44/NAME.
name=$1; seed=$2; shift 2
cd ${WT:-/work/main}
start=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/s44/$name \
  --config.train.num_steps=3000 --config.loss.lambda_reader=300 --config.reader.epochs=10 --config.seed=$seed "$@" \
  > /work/exp/s44/$name.log 2>&1
echo "rc=$? wall=$(( $(date +%s)-start )) $(date)" >> /work/exp/s44/$name.log
