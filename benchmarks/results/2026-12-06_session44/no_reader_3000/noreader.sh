#!/bin/bash
cd /work/main
start=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/s44/noreader_s0 \
  --config.train.num_steps=3000 > /work/exp/s44/noreader_s0.log 2>&1
echo "rc=$? wall=$(( $(date +%s)-start )) $(date)" >> /work/exp/s44/noreader_s0.log
