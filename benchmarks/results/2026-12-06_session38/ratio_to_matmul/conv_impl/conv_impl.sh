#!/bin/bash
cd /work/main
O=/work/exp/s38/conv_impl
mkdir -p $O
for i in 1 2; do
 for impl in fast xla; do
  .venv/bin/python -m benchmarks.bench_step --batch=16 --image_size=96 --width=1.0 --steps=5 --conv_impl=$impl --out=$O/b16_${impl}_$i.json > $O/b16_${impl}_$i.log 2>&1
  .venv/bin/python -m benchmarks.bench_step --batch=8 --image_size=32 --width=0.25 --steps=20 --conv_impl=$impl --out=$O/b8_${impl}_$i.json > $O/b8_${impl}_$i.log 2>&1
 done
done
echo DONE > $O/DONE
