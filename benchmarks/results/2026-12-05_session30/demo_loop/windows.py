import re, sys, statistics as st
rates = {}
for line in open(sys.argv[1]):
  m = re.search(r'\[step (\d+)\].*steps_per_sec=([0-9.]+)', line)
  if m: rates[int(m.group(1))] = float(m.group(2))
keep = {k: v for k, v in rates.items() if 300 <= k <= 1500 and k not in (600, 1100)}
ms = sorted(1000 / v for v in keep.values())
print('windows', {k: round(1000 / v, 1) for k, v in sorted(keep.items())})
print('median ms', round(st.median(ms), 1), 'range', round(ms[0], 1), round(ms[-1], 1))
