#!/bin/bash
cd /work/main
for i in 1 2 3 4 5; do
  .venv/bin/python -m benchmarks.bench_step --batch=8 --image_size=32 --width=0.25 --steps=20 --out=/work/exp/s47/ratio/b8_$i.json > /work/exp/s47/ratio/b8_$i.log 2>&1
  .venv/bin/python -m benchmarks.bench_step --batch=16 --image_size=96 --width=1.0 --steps=5 --out=/work/exp/s47/ratio/b16_$i.json > /work/exp/s47/ratio/b16_$i.log 2>&1
  .venv/bin/python -m benchmarks.bench_step --batch=64 --image_size=64 --width=0.5 --steps=5 --out=/work/exp/s47/ratio/b64_$i.json > /work/exp/s47/ratio/b64_$i.log 2>&1
done
echo DONE > /work/exp/s47/ratio/DONE
