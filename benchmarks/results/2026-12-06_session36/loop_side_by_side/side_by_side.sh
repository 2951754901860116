cd /work/main
A="--batch=16 --image_size=64 --width=0.25 --d_width=0.5 --gde_width=0.5 --d_norm=group --ne=7 --ni=64 --pixel_change_weight=16 --g_ema_decay=0.999 --steps=20 --matmul_size=256"
date
.venv/bin/python -m benchmarks.bench_step $A --out=/work/exp/s36/sbs/bench_before.json > /dev/null 2>&1
date
rm -rf /tmp/s36_side
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/tmp/s36_side --mode=train_gan --config.data.dir=data/synthetic_pretrain > /work/exp/s36/sbs/side_loop.log 2>&1
date
.venv/bin/python -m benchmarks.bench_step $A --out=/work/exp/s36/sbs/bench_after.json > /dev/null 2>&1
date
