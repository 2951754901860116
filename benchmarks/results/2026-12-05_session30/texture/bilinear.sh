#!/bin/bash
# 600 iterations of the demo's stage 1 with bilinear upsampling in Gde (screening patch in /work/wt30; the plain XLA layers), then the texture diagnostic.
R=/work/exp/s30/runs; cd /work/wt30; name=t600_bilinear; rm -rf $R/$name; s=$(date +%s)
export UPSAMPLE=bilinear CONV_IMPL=xla
/work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$R/$name --mode=train_gan \
  --config.data.dir=/work/main/data/synthetic_pretrain --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False --config.train.num_steps=600 --config.train.checkpoint_every=300 --config.model.conv_impl=xla > $R/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - s ))" >> $R/$name.log
PYTHONPATH=/work/wt30 /work/main/.venv/bin/python /work/exp/s30/texture/shared_hf.py $R/$name/checkpoints/600 /work/main/data/synthetic 2>&1 | grep '^{' >> $R/$name.log
cp /work/exp/s30/texture/shared_patterns.png /work/exp/s30/texture/shared_patterns_$name.png
echo DONE >> $R/$name.log
