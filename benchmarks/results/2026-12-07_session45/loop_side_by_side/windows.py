"""Median ms per iteration over the stage-1 log's 100-step windows from 200 on, without those holding a checkpoint."""
import json, re, statistics, sys
log, *benches = sys.argv[1:]
rows = [(int(m.group(1)), float(m.group(2))) for m in re.finditer(r'\[step (\d+)\].*?steps_per_sec=([0-9.]+)', open(log).read())]
win = {s: 1000 / r for s, r in rows if s >= 300 and (s - 100) % 500 != 0}
print('windows (end step: ms)', {s: round(v, 1) for s, v in win.items()})
med = statistics.median(win.values())
b = [json.load(open(p))['step_ms']['median'] for p in benches]
print(f'loop median {med:.1f} ms; bench medians {b}; ratio loop/bench (it/s) {statistics.mean(b) / med:.3f}')
