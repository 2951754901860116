#!/usr/bin/env bash
# Session 24's one device call: a profile of the B256 bf16 96x96 width-1 step
# (issue 16: busy vs wall), then configs/synthetic_gpu.py (the reader on) end to
# end alone on the GPU (issue 14: what a GPU needs), then, time allowing, B512
# bf16 in bench_step (does MFU grow with the batch?). DRY=1: tiny shapes, CPU.
set -uo pipefail
T0=$(date +%s)
OUT=${OUT:-/tmp/out24}; RES=/tmp/res24; mkdir -p "$OUT" "$RES"
el() { echo "$(( $(date +%s) - T0 )) s"; }
if [[ "${DRY:-0}" == 1 ]]; then
  PY=${PY:-python}; RUN_S=${RUN_S:-300}; DEADLINE=${DEADLINE:-100000}
  prof=(--batch=4 --image_size=32 --width=0.25 --dtype=float32)
  gpur=(--config=configs/tiny.py --config.loss.lambda_reader=300)
  big=(--batch=8 --image_size=32 --width=0.25 --dtype=float32 --steps=2)
else
  bash .whl/setup.sh > "$RES/setup.log" 2>&1 || { cat "$RES/setup.log"; exit 1; }
  export PYTHONPATH=/tmp/site:$PWD/.whl/pysrc
  PY=python3; RUN_S=${RUN_S:-400}; DEADLINE=${DEADLINE:-480}
  nvidia-smi > "$RES/nvidia_smi.txt" 2>&1
  prof=(--batch=256 --image_size=96 --width=1.0 --dtype=bfloat16)
  gpur=(--config=configs/synthetic_gpu.py)
  big=(--batch=512 --image_size=96 --width=1.0 --dtype=bfloat16 --steps=10)
fi
export PYTHONUNBUFFERED=1
$PY - > "$RES/versions.txt" 2>&1 <<'PY'
import importlib.metadata as md, platform
import jax
print('python', platform.python_version())
for n in ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint', 'grain', 'numpy'):
  try: print(n, md.version(n))
  except md.PackageNotFoundError: print(n, 'missing')
print('devices', jax.devices())
PY
cat "$RES/versions.txt"
echo "setup done $(el)"
timeout "${PROF_S:-120}" $PY -m benchmarks.profile_step "${prof[@]}" --ne=6 --ni=101 \
  --runs=3 --top=40 --trace_dir=/tmp/prof24 > "$RES/profile.txt" 2> "$RES/profile.err"
echo "profile rc $? $(el)"
xp=$(find /tmp/prof24 -name '*.xplane.pb' | head -1)
[[ -n "$xp" ]] && gzip -c "$xp" > "$OUT/prof.xplane.pb.gz"
cp /tmp/prof24/iteration/iteration.hlo.txt "$RES/" 2>/dev/null
tail -70 "$RES/profile.txt"; tail -5 "$RES/profile.err"

t=$(date +%s)
timeout "$RUN_S" $PY -m relgan_jax.main "${gpur[@]}" --workdir=/tmp/gpur \
  --config.data.dir=/tmp/gpur_data > "$RES/gpur.log" 2>&1
echo "gpur rc $? in $(( $(date +%s) - t )) s" | tee -a "$RES/times.txt"
for f in report.md report.json reenactment_grid.png confusion_matrix.png; do
  [[ -f /tmp/gpur/$f ]] && cp /tmp/gpur/$f "$RES/gpur_$f"
done
grep -v "Warning\|warn(" "$RES/gpur.log" > "$RES/gpur.log.tmp" && mv "$RES/gpur.log.tmp" "$RES/gpur.log"
sed -n '/| method/,/^$/p' /tmp/gpur/report.md 2>/dev/null | head -8
grep -i "transfer\|retrieval" /tmp/gpur/report.md 2>/dev/null | head -6
tail -3 "$RES/gpur.log"

if (( $(date +%s) - T0 < DEADLINE )); then
  timeout 90 $PY -m benchmarks.bench_step "${big[@]}" --ne=6 --ni=101 \
    > "$RES/bench_b512.json" 2> "$RES/bench_b512.err"
  echo "bench B512 rc $? $(el)"; tail -1 "$RES/bench_b512.json"
else
  echo "bench B512 skipped (past deadline) $(el)"
fi
tar czf "$OUT/res24.tgz" -C /tmp res24
echo "done $(el)"
