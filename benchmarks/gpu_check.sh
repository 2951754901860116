#!/usr/bin/env bash
# The GPU figures in one go (issue 16), for a session that is lent a GPU:
#   bash benchmarks/gpu_check.sh [OUT_DIR]
# writes OUT_DIR/versions.txt, OUT_DIR/bench.jsonl (one bench_step JSON per
# line: B256 and B64 at 96x96 width 1, bfloat16 and float32, with MFU;
# conv_impl=fast and an XLA autotuning flag at B256 bfloat16), OUT_DIR/demo.log
# and OUT_DIR/summary.json (the demo config end to end: wall seconds, report
# figures). Sized to finish in <= 8 minutes on one H100/H200 (each bench run:
# start-up, compile, 10 timed iterations; the demo is cut off at DEMO_TIMEOUT
# seconds, each bench run at BENCH_TIMEOUT, and no bench run starts after
# DEADLINE_S seconds).
#
# DEMO_DIR (default OUT_DIR/demo_run) is where the demo writes its workdir
# and data; point it outside OUT_DIR when only a few files can come back.
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
bench_timeout=${BENCH_TIMEOUT:-150}  # one bench_step run, start-up and compile included
deadline=${DEADLINE_S:-0}  # > 0: start no bench_step run after this many seconds
start=$(date +%s)
demo_dir=${DEMO_DIR:-$out/demo_run}
$py - > "$out/versions.txt" 2>&1 <<'PY'
import importlib.metadata as md, platform
import jax
print('python', platform.python_version())
for name in ('jax', 'jaxlib', 'flax', 'optax', 'orbax-checkpoint', 'grain', 'numpy'):
  try:
    print(name, md.version(name))
  except md.PackageNotFoundError:
    print(name, 'missing')
print('devices', jax.devices())
PY

bench() {  # bench LABEL [bench_step flags...]
  local label=$1; shift
  if (( deadline > 0 && $(date +%s) - start > deadline )); then
    echo "{\"label\": \"$label\", \"error\": \"skipped: past DEADLINE_S\"}" >> "$out/bench.jsonl"
    return
  fi
  echo "== bench_step $label $*" >&2
  if line=$(timeout "$bench_timeout" $py -m benchmarks.bench_step --image_size=$size --width=$width \
              --steps=$steps --ne=6 --ni=101 "$@" 2>>"$out/bench.err" | tail -1); then
    echo "{\"label\": \"$label\", \"result\": $line}" >> "$out/bench.jsonl"
  else
    echo "{\"label\": \"$label\", \"error\": \"see bench.err\"}" >> "$out/bench.jsonl"
  fi
}

# The figure the issue asks for first (MFU at the big batch in bfloat16), the
# demo next, the variants last: a run cut short keeps what matters most.
bench "B$big bfloat16" --batch=$big --dtype=bfloat16
bench "B$big float32" --batch=$big --dtype=float32

echo "== demo ${demo[*]} (cut off at ${demo_timeout} s)" >&2
rm -rf "$demo_dir"
t0=$(date +%s)
timeout "$demo_timeout" $py -m relgan_jax.main "${demo[@]}" \
  --workdir="$demo_dir" --config.data.dir="$demo_dir/data" \
  > "$out/demo.log" 2>&1
demo_status=$?
demo_s=$(( $(date +%s) - t0 ))

for b in "${batches[@]}"; do
  [[ $b == "$big" ]] && continue
  for dtype in bfloat16 float32; do
    bench "B$b $dtype" --batch=$b --dtype=$dtype
  done
done
bench "B$big bfloat16 conv_impl=fast" --batch=$big --dtype=bfloat16 --conv_impl=fast
XLA_FLAGS="${XLA_FLAGS:-} --xla_gpu_autotune_level=4" \
  bench "B$big bfloat16 xla_gpu_autotune_level=4" --batch=$big --dtype=bfloat16

if [[ "$demo_dir" != "$out/demo_run" ]]; then  # Bring the demo's pictures back.
  for f in report.md reenactment_grid.png; do
    [[ -f "$demo_dir/$f" ]] && cp "$demo_dir/$f" "$out/demo_$f"
  done
fi

$py - "$out" "$demo_dir" "$demo_status" "$demo_s" "$(( $(date +%s) - start ))" <<'PY'
import json, os, sys
out, demo_dir = sys.argv[1], sys.argv[2]
status, demo_s, total_s = (int(a) for a in sys.argv[3:6])
bench = [json.loads(l) for l in open(os.path.join(out, 'bench.jsonl')) if l.strip()]
report = os.path.join(demo_dir, 'report.json')
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
