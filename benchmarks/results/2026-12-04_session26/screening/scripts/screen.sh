#!/bin/bash
# usage: screen.sh NAME [overrides...]: the demo's stage 1 on the pre-training people, then the probe + recon curve (fold 0)
name=$1; shift
cd /work/main; R=/work/exp/s26/runs; rm -rf $R/$name; s=$(date +%s)
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
PYTHONPATH=/work/main .venv/bin/python /work/exp/s26/probe.py $R/$name /work/main/data/synthetic >> $R/$name.log 2>&1
PYTHONPATH=/work/main .venv/bin/python /work/exp/s26/recon_curve.py $name $R/$name 500 1000 1500 >> $R/$name.log 2>&1
echo DONE >> $R/$name.log
