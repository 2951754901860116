#!/usr/bin/env bash
# Prepared for the next session lent a GPU (issue 16, MFU): which of the
# 3-channel layers' matrix-product formulations loses, with a profile of each,
# at B256 bf16 96x96 width 1. Copy this file and edge_layers/edge_bench.py
# into .whl/ (with session 22's wheels and setup.sh), carry .whl, run
# `bash .whl/next_device_call.sh`; ~6 minutes. DRY=1: tiny shapes on a CPU.
set -uo pipefail
OUT=${OUT:-/tmp/out25}; mkdir -p "$OUT"
if [[ "${DRY:-0}" == 1 ]]; then
  PY=${PY:-python}; shape=(--batch=4 --image_size=32 --width=0.25 --dtype=float32)
else
  bash .whl/setup.sh > "$OUT/setup.log" 2>&1 || exit 1
  export PYTHONPATH=/tmp/site:$PWD/.whl/pysrc
  PY=python3; shape=(--batch=256 --image_size=96 --width=1.0 --dtype=bfloat16)
fi
export PYTHONPATH=${PYTHONPATH:+$PYTHONPATH:}$PWD/.whl:$PWD PYTHONUNBUFFERED=1
for mode in 0 in out both; do
  EDGE=$mode timeout 100 $PY .whl/edge_bench.py "${shape[@]}" --steps=10 --ne=6 --ni=101 \
    > "$OUT/bench_$mode.json" 2> "$OUT/bench_$mode.err"
  echo "bench EDGE=$mode rc $?: $(tail -c 400 "$OUT/bench_$mode.json")"
done
for mode in in out; do
  EDGE=$mode EDGE_MODULE=benchmarks.profile_step timeout 100 $PY .whl/edge_bench.py "${shape[@]}" \
    --ne=6 --ni=101 --runs=3 --top=30 --trace_dir=/tmp/prof_$mode \
    > "$OUT/profile_$mode.txt" 2> "$OUT/profile_$mode.err"
  echo "profile EDGE=$mode rc $?"; head -12 "$OUT/profile_$mode.txt"
done
