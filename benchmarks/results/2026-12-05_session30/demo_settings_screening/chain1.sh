#!/bin/bash
# HEAD's demo stage 1 (timing reference), then the no-boost variant on seed 1.
R=/work/exp/s30/runs; cd /work/main; s=$(date +%s)
/work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/head_s0 --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False > $R/head_s0.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/head_s0.log
GDE_WIDTH=0.5 /work/exp/s30/screen.sh /work/wt30 gde05pcw16nb_s1 --config.loss.pixel_change_weight=16 --config.train.g_boost_start=1.0 --config.seed=1
