#!/bin/bash
# Interleaved A/B: ml_dtypes 0.7.0 vs 0.6.0 in the dev venv, on the command-line-heavy test modules.
out=/work/exp/s21/ab_mld_full.txt; : > $out
cd /work/main
for i in 1 2; do
  for v in 0.7.0 0.6.0; do
    .venv/bin/pip install -q "ml_dtypes==$v" > /dev/null 2>&1
    s=$(date +%s.%N)
    .venv/bin/python -m pytest -n 2 -q tests > /tmp/ab_mld_full.log 2>&1
    echo "ml_dtypes $v run $i: $(python3 -c "print(round($(date +%s.%N)-$s,1))") s; $(tail -1 /tmp/ab_mld_full.log)" >> $out
  done
done
.venv/bin/pip install -q "ml_dtypes==0.6.0" > /dev/null 2>&1
