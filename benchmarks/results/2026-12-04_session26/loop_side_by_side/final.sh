#!/bin/bash
cd /work/main; O=/work/exp/s26/sbs; mkdir -p $O
B="--batch=16 --image_size=64 --width=0.25 --ne=7 --ni=64 --d_width=0.5 --d_norm=group --steps=20"
date > $O/times.txt
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_before.json > $O/bench_before.log 2>&1
date >> $O/times.txt
/work/exp/s26/fresh.sh demo d1
date >> $O/times.txt
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_after.json > $O/bench_after.log 2>&1
date >> $O/times.txt
/work/exp/s26/fresh.sh tests t1
echo DONE >> $O/times.txt
