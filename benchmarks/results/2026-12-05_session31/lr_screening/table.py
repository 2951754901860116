import json, re, sys, glob, os
R = '/work/exp/s31/runs'
extra = {'base_s0': '/work/exp/s30/runs/gde05pcw16nb.log', 'base_s1': '/work/exp/s30/runs/gde05pcw16nb_s1.log'}
names = sys.argv[1:]
for n in names:
  p = extra.get(n, f'{R}/{n}.log')
  if not os.path.exists(p): continue
  txt = open(p).read()
  st = {}
  probe = None
  for line in txt.splitlines():
    if line.startswith('{"run"'):
      d = json.loads(line); st[d['step']] = d['cross']; sr = d['self_recon']
    elif line.startswith('{"step"'):
      probe = json.loads(line)
  sec = re.findall(r'stage1 seconds (\d+)', txt)
  pix = re.findall(r'step 1500\].*?g_pix=([0-9.]+)', txt)
  dacc = re.findall(r'step 1500\].*?d_exp_acc=([0-9.]+)', txt)
  s = ' / '.join(str(st.get(k, '–')) for k in ('500', '1000', '1500'))
  if probe:
    print(f"| {n} | {probe['acc']} | {probe['nn_same_expr']} / {probe['nn_same_person']} | {probe['transfer']} | {probe['kept']} | {s} | {sr} | {pix[0] if pix else '–'} | {dacc[0] if dacc else '–'} | {sec[0] if sec else '–'} s |")
  else:
    print(f"| {n} | (running) | {s} |")
