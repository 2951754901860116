#!/usr/bin/env bash
# Session 22's one device call: a profile of the B256 bf16 96x96 width-1 step
# (issue 16), then configs/synthetic_full.py and configs/synthetic_gpu.py (both
# with the expression reader) side by side (issue 14). DRY=1: tiny shapes on a CPU.
set -uo pipefail
T0=$(date +%s)
OUT=${OUT:-/tmp/out22}; RES=/tmp/res22; mkdir -p "$OUT" "$RES"
el() { echo "$(( $(date +%s) - T0 )) s"; }
if [[ "${DRY:-0}" == 1 ]]; then
  PY=${PY:-python}; RUN_S=${RUN_S:-300}
  prof=(--batch=4 --image_size=32 --width=0.25 --dtype=float32)
  full=(--config=configs/tiny.py --config.loss.lambda_reader=300)
  gpur=(--config=configs/tiny.py --config.loss.lambda_reader=300)
else
  bash .whl/setup.sh > "$RES/setup.log" 2>&1 || { cat "$RES/setup.log"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD/.whl/pysrc
  PY=python3; RUN_S=${RUN_S:-400}
  nvidia-smi > "$RES/nvidia_smi.txt" 2>&1
  prof=(--batch=256 --image_size=96 --width=1.0 --dtype=bfloat16)
  full=(--config=configs/synthetic_full.py)
  gpur=(--config=configs/synthetic_gpu.py)  # The reader is on there since session 22.
fi
export PYTHONUNBUFFERED=1
echo "setup done $(el)"
timeout "${PROF_S:-110}" $PY -m benchmarks.profile_step "${prof[@]}" --ne=6 --ni=101 \
  --runs=3 --top=40 --trace_dir=/tmp/prof22 > "$RES/profile.txt" 2> "$RES/profile.err"
echo "profile rc $? $(el)"
xp=$(find /tmp/prof22 -name '*.xplane.pb' | head -1)
[[ -n "$xp" ]] && cp "$xp" "$OUT/prof.xplane.pb"
cp /tmp/prof22/iteration/iteration.hlo.txt "$RES/" 2>/dev/null
tail -62 "$RES/profile.txt"

export XLA_PYTHON_CLIENT_MEM_FRACTION=0.4
run() {  # run NAME config flags...
  local name=$1; shift
  local t=$(date +%s)
  timeout "$RUN_S" $PY -m relgan_jax.main "$@" --workdir=/tmp/$name \
    --config.data.dir=/tmp/${name}_data > "$RES/$name.log" 2>&1
  echo "$name rc $? in $(( $(date +%s) - t )) s" >> "$RES/times.txt"
}
run full "${full[@]}" &
run gpur "${gpur[@]}" &
wait
cat "$RES/times.txt"
for n in full gpur; do
  for f in report.md report.json reenactment_grid.png confusion_matrix.png; do
    [[ -f /tmp/$n/$f ]] && cp /tmp/$n/$f "$RES/${n}_$f"
  done
  grep -v "Warning\|warn(" "$RES/$n.log" > "$RES/$n.log.tmp" && mv "$RES/$n.log.tmp" "$RES/$n.log"
  sed -n '/| method/,/^$/p' /tmp/$n/report.md 2>/dev/null | head -8
  grep -i "transfer\|retrieval" /tmp/$n/report.md 2>/dev/null | head -6
done
tar czf "$OUT/res22.tgz" -C /tmp res22
echo "done $(el)"
