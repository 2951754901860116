#!/bin/bash
# usage: screen.sh NAME [overrides...]: the demo's stage 1 on the pre-training people, then the recon curve + probe (fold 0)
# probe.py: a copy of results/2026-12-03_session19/scripts/probe.py, recon_curve.py of
# results/2026-12-04_session23/transfer_decomposition/recon_curve.py, with their scratch/output paths in /work/exp/s25.
name=$1; shift
cd /work/main; R=/work/exp/s25/runs; rm -rf $R/$name; s=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
PYTHONPATH=/work/main .venv/bin/python /work/exp/s25/recon_curve.py $name $R/$name 500 1000 1500 >> $R/$name.log 2>&1
PYTHONPATH=/work/main .venv/bin/python /work/exp/s25/probe.py $R/$name /work/main/data/synthetic >> $R/$name.log 2>&1
echo DONE >> $R/$name.log
