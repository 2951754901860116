# A/B: old (HEAD=cba9f0c) vs new working tree; reader 1,120 steps, 40 stage-1 steps.
for r in 1 2; do
for v in old new; do
  if [ $v = old ]; then cd /tmp/wt_old; else cd /work/main; fi
  rm -rf /work/exp/s48/ab_$v$r
  s=$(date +%s.%N)
  /work/main/.venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=/work/exp/s48/ab_$v$r --mode=train_gan --config.train.num_steps=40 --config.train.log_every=20 --config.reader.epochs=20 --config.train.image_summary_every=0 > /work/exp/s48/ab_$v$r.log 2>&1
  e=$(date +%s.%N)
  echo "$v$r wall $(echo "$e - $s" | bc) $(grep -o 'trained in [0-9]* s' /work/exp/s48/ab_$v$r.log) $(grep -o 'fingerprint [0-9a-f]*' /work/exp/s48/ab_$v$r.log)" >> /work/exp/s48/ab.txt
done; done
echo DONE >> /work/exp/s48/ab.txt
