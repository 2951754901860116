#!/bin/bash
# 600-iteration stage 1 of the demo with and without the D-judged terms in L_G, then the shared-texture diagnostic.
R=/work/exp/s30/runs; cd /work/main
run() { name=$1; shift; rm -rf $R/$name; s=$(date +%s)
  .venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
    --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
    --config.protocol.freeze_pretrained=False --config.train.num_steps=600 --config.train.checkpoint_every=300 "$@" > $R/$name.log 2>&1
  echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
  PYTHONPATH=/work/main .venv/bin/python /work/exp/s30/texture/shared_hf.py $R/$name/checkpoints/600 /work/main/data/synthetic 2>&1 | grep '^{' >> $R/$name.log
  cp /work/exp/s30/texture/shared_patterns.png /work/exp/s30/texture/shared_patterns_$name.png; }
run t600_demo
run t600_nod --config.loss.lambda_adv=0 --config.loss.lambda_exp=0 --config.loss.lambda_id=0
echo DONE > /work/exp/s30/texture/ATTRIB_DONE
