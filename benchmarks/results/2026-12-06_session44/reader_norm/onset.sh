#!/bin/bash
# onset.sh NAME [extra flags...]: the longer command's stage 1 alone on the pre-training set, reader warm-up OFF
# (the strong early corner blob as a quick signal), a checkpoint every 50 its, stopped after the 400th.
name=$1; shift
wd=/work/exp/s44/$name; rm -rf $wd
cd /work/main
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$wd --mode=train_gan \
  --config.data.dir=data/synthetic_pretrain --config.data.generate_if_missing=False \
  --config.train.num_steps=3000 --config.loss.lambda_reader=300 --config.reader.epochs=10 \
  --config.loss.reader_warmup=False --config.train.checkpoint_every=50 --config.train.keep_checkpoints=20 "$@" \
  > /work/exp/s44/$name.log 2>&1 &
pid=$!
while kill -0 $pid 2>/dev/null; do
  if [ -d $wd/checkpoints/${STOP:-400} ] || [ -d $wd/pretrain/checkpoints/${STOP:-400} ]; then sleep 5; kill $pid; break; fi
  sleep 5
done
wait $pid
echo "done $name $(date)" >> /work/exp/s44/$name.log
