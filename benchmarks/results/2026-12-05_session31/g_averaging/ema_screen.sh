#!/bin/bash
# the landed demo's stage 1 with a checkpoint every 50 steps, then diag+probe on plain and averaged G
cd /work/exp/s31; R=runs; n=ckpt50
./screen.sh /work/main $n --config.train.checkpoint_every=50 --config.train.keep_checkpoints=40
cp $R/$n/grid1500.png $R/${n}_plain_grid1500.png
for k in 3 6 11; do
  for st in 1000 1500; do AVG_K=$k PYTHONPATH=/work/main /work/main/.venv/bin/python avg_run.py /work/exp/s27/diag2.py $R/$n $st 2>&1 | grep '^{' | sed "s/\"run\"/\"avg_k\": $k, \"run\"/" >> $R/${n}_avg.log; done
  AVG_K=$k PYTHONPATH=/work/main /work/main/.venv/bin/python avg_run.py /work/exp/s26/probe.py $R/$n /work/main/data/synthetic 2>&1 | grep '^{' | sed "s/^{/{\"avg_k\": $k, /" >> $R/${n}_avg.log
  cp $R/$n/grid1500.png $R/${n}_avg${k}_grid1500.png
done
echo DONE >> $R/${n}_avg.log
