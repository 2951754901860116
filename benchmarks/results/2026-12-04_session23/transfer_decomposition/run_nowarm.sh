#!/bin/bash
cd /work/main; R=/work/exp/s23/runs; rm -rf $R/nowarm; s=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/nowarm --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False --config.loss.d_terms_warmup=0 > $R/nowarm.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/nowarm.log
.venv/bin/python /work/exp/s23/recon_curve.py demo_nowarmup $R/nowarm 500 1000 1500 >> $R/nowarm.log 2>&1
echo DONE >> $R/nowarm.log
