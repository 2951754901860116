#!/bin/bash
cd /work/main
A="--batch=16 --image_size=64 --width=0.25 --d_width=0.5 --gde_width=0.5 --d_norm=group --ne=7 --ni=64 --pixel_change_weight=16 --g_ema_decay=0.999 --steps=20 --matmul_size=256"
/work/exp/s37/fresh.sh tests t1
date > /work/exp/s37/bench_dates.txt
.venv/bin/python -m benchmarks.bench_step $A --out=/work/exp/s37/bench_before.json > /dev/null 2>&1
date >> /work/exp/s37/bench_dates.txt
/work/exp/s37/fresh.sh demo d1
date >> /work/exp/s37/bench_dates.txt
.venv/bin/python -m benchmarks.bench_step $A --out=/work/exp/s37/bench_after.json > /dev/null 2>&1
date >> /work/exp/s37/bench_dates.txt
