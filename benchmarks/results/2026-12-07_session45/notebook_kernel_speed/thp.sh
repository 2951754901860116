#!/bin/bash
# thp.sh NAME MODE: stage 1 alone for 400 its (reader 1 epoch); MODE=tuned (main's re-exec) or nohuge (the tunables but hugetlb).
name=$1; mode=$2; wd=/work/exp/s45/thp_$name; rm -rf $wd
cd /work/main
if [ $mode = nohuge ]; then
  export RELGAN_NO_MALLOC_TUNING=1
  export GLIBC_TUNABLES='glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736:glibc.malloc.arena_max=1'
fi
.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=$wd --mode=train_gan \
  --config.data.dir=data/synthetic_pretrain --config.data.generate_if_missing=False \
  --config.train.num_steps=400 --config.reader.epochs=1 --config.train.log_every=50 \
  --config.train.checkpoint_every=1000 --config.train.image_summary_every=1000 > /work/exp/s45/thp_$name.log 2>&1
grep -o 'step [0-9]*\] .*steps_per_sec=[0-9.]*' /work/exp/s45/thp_$name.log | sed 's/\].*steps_per_sec=/ /' | tr '\n' ' ' > /work/exp/s45/thp_$name.txt
rm -rf $wd
