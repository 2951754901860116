#!/bin/bash
# The demo's stage-1 iteration with and without the reader's saliency, twice each, interleaved.
cd /work/main
O=benchmarks/results/2026-12-07_session53/saliency_cost
mkdir -p $O
common="--batch=16 --image_size=64 --width=0.25 --gde_width=0.5 --d_width=0.5 --d_norm=group --pixel_change_weight=16 --lambda_reader=1000 --g_ema_decay=0.999 --ne=7 --ni=128 --steps=20"
for r in 1 2; do
  .venv/bin/python -m benchmarks.bench_step $common --out=$O/without_$r.json > /dev/null 2>&1
  .venv/bin/python -m benchmarks.bench_step $common --pixel_change_saliency=0.5 --out=$O/with_$r.json > /dev/null 2>&1
done
for f in $O/*.json; do python3 -c "import json,sys;d=json.load(open('$f'));print('$f'.split('/')[-1], d['step_ms'], d.get('load_average'))"; done
