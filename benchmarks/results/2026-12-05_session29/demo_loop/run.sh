#!/bin/bash
cd /work/main
B="-m benchmarks.bench_step --batch=16 --image_size=64 --width=0.25 --d_width=0.5 --d_norm=group --ne=7 --ni=64 --steps=20"
.venv/bin/python $B --out=/work/exp/s29/loop/bench_before.json > /work/exp/s29/loop/bench_before.log 2>&1
rm -rf /work/exp/s29/loop/stage1
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/s29/loop/stage1 --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False > /work/exp/s29/loop/stage1.log 2>&1
.venv/bin/python $B --out=/work/exp/s29/loop/bench_after.json > /work/exp/s29/loop/bench_after.log 2>&1
echo DONE > /work/exp/s29/loop/DONE
