#!/bin/bash
cd /work/main
A="--batch=16 --image_size=64 --width=0.25 --d_width=0.5 --gde_width=0.5 --d_norm=group --ne=7 --ni=64 --pixel_change_weight=16 --g_ema_decay=0.999 --steps=20 --matmul_size=256"
date > /work/exp/s37/threads_dates.txt
.venv/bin/python -m benchmarks.bench_step $A > /work/exp/s37/threads_bench1.json 2>/dev/null
for t in 2 1; do
  date >> /work/exp/s37/threads_dates.txt
  rm -rf /tmp/s37_rt$t
  .venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/tmp/s37_rt$t --mode=train_gan --config.data.dir=data/synthetic_pretrain --config.data.read_threads=$t > /work/exp/s37/threads_rt$t.log 2>&1
done
date >> /work/exp/s37/threads_dates.txt
.venv/bin/python -m benchmarks.bench_step $A > /work/exp/s37/threads_bench2.json 2>/dev/null
date >> /work/exp/s37/threads_dates.txt
