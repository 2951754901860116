#!/bin/bash
# bench_step at the demo's shape (session 30: Gde at 0.5), the demo's stage 1 as train_gan, bench_step again.
cd /work/main; O=/work/exp/s30/loop
B="-m benchmarks.bench_step --batch=16 --image_size=64 --width=0.25 --gde_width=0.5 --pixel_change_weight=16 --d_width=0.5 --d_norm=group --ne=7 --ni=64 --steps=20"
.venv/bin/python $B --out=$O/bench_before.json > $O/bench_before.log 2>&1
rm -rf $O/stage1
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$O/stage1 --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False > $O/stage1.log 2>&1
.venv/bin/python $B --out=$O/bench_after.json > $O/bench_after.log 2>&1
echo DONE > $O/DONE
