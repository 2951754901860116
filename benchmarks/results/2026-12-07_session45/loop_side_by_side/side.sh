#!/bin/bash
# side.sh: bench_step at the demo's program (the reader included), the demo's stage 1 alone, bench_step again.
cd /work/main
B="--batch=16 --image_size=64 --width=0.25 --d_width=0.5 --gde_width=0.5 --d_norm=group --ne=7 --ni=128 --pixel_change_weight=16 --g_ema_decay=0.999 --lambda_reader=300 --steps=20"
O=/work/exp/s45/loop
date > $O/times.txt
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_before.json > $O/bench_before.log 2>&1
date >> $O/times.txt
rm -rf $O/stage1
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$O/stage1 --mode=train_gan \
  --config.data.dir=data/synthetic_pretrain --config.data.generate_if_missing=False > $O/stage1.log 2>&1
date >> $O/times.txt
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_after.json > $O/bench_after.log 2>&1
date >> $O/times.txt
