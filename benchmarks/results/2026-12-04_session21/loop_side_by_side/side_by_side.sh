#!/bin/bash
# bench_step at the demo's shape, the demo's stage 1 (train_gan on the pre-training set), bench_step again.
cd /work/main; O=/work/exp/s21/sbs; rm -rf $O; mkdir -p $O
B="--batch=16 --image_size=64 --width=0.25 --ne=7 --ni=64 --d_width=0.5 --d_norm=group --steps=20"
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_before.json > /dev/null 2>&1
date > $O/times.txt
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$O/run --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False \
  --config.data.synthetic_pretrain_identities=0 --config.protocol.freeze_pretrained=False > $O/run.log 2>&1
date >> $O/times.txt
.venv/bin/python -m benchmarks.bench_step $B --out=$O/bench_after.json > /dev/null 2>&1
echo DONE >> $O/times.txt
