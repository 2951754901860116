#!/usr/bin/env bash
# The GPU figures in one go (issue 16), for a session that is lent a GPU:
#   bash benchmarks/gpu_check.sh [OUT_DIR]
# writes OUT_DIR/bench.jsonl (one bench_step JSON per line: B64 and B256 at
# 96x96 width 1, float32 and bfloat16, with MFU; conv_impl=fast and an XLA
# autotuning flag at B256 bfloat16), OUT_DIR/demo.log and OUT_DIR/summary.json
# (the demo config end to end: wall seconds, report figures). Sized to finish
# in <= 8 minutes on one H100/H200 (each bench run: start-up, compile, 10
# timed iterations; the demo is cut off at DEMO_TIMEOUT seconds).
#
# TINY=1 runs the same sequence at tiny shapes on any machine (CPU included),
# to prove the script works where no GPU is lent:
#   TINY=1 bash benchmarks/gpu_check.sh /tmp/gpu_check_cpu
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-benchmarks/results/$(date -u +%F)_gpu}
# The project's venv when there is one (the README's commands make .venv),
# else PYTHON, else python.
if [[ -z "${PYTHON:-}" && -x .venv/bin/python ]]; then PYTHON=.venv/bin/python; fi
py=${PYTHON:-python}
mkdir -p "$out"
: > "$out/bench.jsonl"
if [[ "${TINY:-0}" == 1 ]]; then
  size=32; width=0.25; batches=(4 8); big=8; steps=2
  demo=(--config=configs/tiny.py); demo_timeout=${DEMO_TIMEOUT:-300}
else
  size=96; width=1.0; batches=(64 256); big=256; steps=10
  demo=(--config=configs/synthetic.py); demo_timeout=${DEMO_TIMEOUT:-240}
fi
start=$(date +%s)

bench() {  # bench LABEL [bench_step flags...]
  local label=$1; shift
  echo "== bench_step $label $*" >&2
  if line=$($py -m benchmarks.bench_step --image_size=$size --width=$width \
              --steps=$steps --ne=6 --ni=101 "$@" 2>>"$out/bench.err" | tail -1); then
    echo "{\"label\": \"$label\", \"result\": $line}" >> "$out/bench.jsonl"
  else
    echo "{\"label\": \"$label\", \"error\": \"see bench.err\"}" >> "$out/bench.jsonl"
  fi
}

for b in "${batches[@]}"; do
  for dtype in float32 bfloat16; do
    bench "B$b $dtype" --batch=$b --dtype=$dtype
  done
done
bench "B$big bfloat16 conv_impl=fast" --batch=$big --dtype=bfloat16 --conv_impl=fast
XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_autotune_level=4" \
  bench "B$big bfloat16 xla_gpu_autotune_level=4" --batch=$big --dtype=bfloat16

echo "== demo ${demo[*]} (cut off at ${demo_timeout} s)" >&2
rm -rf "$out/demo_run"
t0=$(date +%s)
timeout "$demo_timeout" $py -m relgan_jax.main "${demo[@]}" \
  --workdir="$out/demo_run" --config.data.dir="$out/demo_run/data" \
  > "$out/demo.log" 2>&1
demo_status=$?
demo_s=$(( $(date +%s) - t0 ))

$py - "$out" "$demo_status" "$demo_s" "$(( $(date +%s) - start ))" <<'PY'
import json, os, sys
out, status, demo_s, total_s = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bench = [json.loads(l) for l in open(os.path.join(out, 'bench.jsonl')) if l.strip()]
report = os.path.join(out, 'demo_run', 'report.json')
summary = dict(
    total_seconds=total_s,
    bench=[dict(label=b['label'], **{k: b.get('result', {}).get(k) for k in (
        'device', 'images_per_s', 'step_ms', 'compile_s', 'achieved_tflops',
        'mfu', 'ratio_to_matmul')}, error=b.get('error')) for b in bench],
    demo=dict(exit_status=status, seconds=demo_s,
              timed_out=status == 124,
              report=json.load(open(report)) if os.path.exists(report) else None))
with open(os.path.join(out, 'summary.json'), 'w') as f:
  json.dump(summary, f, indent=1)
for b in summary['bench']:
  print(b['label'], b['images_per_s'], 'images/s', 'MFU', b['mfu'], b['error'] or '')
print('demo: exit', status, 'in', demo_s, 's; total', total_s, 's')
PY
