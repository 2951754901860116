#!/bin/bash
# usage: screen_ema.sh NAME [overrides]: stage 1 storing EMAs 0.99 and 0.995, then diag+probe for each
name=$1; shift
R=/work/exp/s32/runs; wt=/work/wt_ema; cd $wt; rm -rf $R/$name; s=$(date +%s)
G_EMA=0.99,0.995 PYTHONPATH=$wt /work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
for pick in 0.99 0.995; do
  echo "EMA_PICK $pick" >> $R/$name.log
  for st in 500 1000 1500; do EMA_PICK=$pick PYTHONPATH=$wt /work/main/.venv/bin/python /work/exp/s27/diag2.py $R/$name $st 2>&1 | grep '^{' >> $R/$name.log; done
  EMA_PICK=$pick PYTHONPATH=$wt /work/main/.venv/bin/python /work/exp/s26/probe.py $R/$name /work/main/data/synthetic >> $R/$name.log 2>&1
  cp $R/$name/grid1500.png $R/${name}_ema${pick}_grid1500.png
done
echo DONE >> $R/$name.log
