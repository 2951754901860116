import glob, json, statistics
for shape in ('b8', 'b64', 'b16'):
  rs = [json.load(open(p)) for p in sorted(glob.glob(f'/work/exp/s47/ratio/{shape}_*.json'))]
  ratios = [r['ratio_to_matmul'] for r in rs]
  ms = [r['step_ms']['median'] for r in rs]
  mm = [r['matmul_f32_tflops'] for r in rs]
  print(shape, 'step ms', ms, 'matmul', mm, 'ratios', ratios, 'median', statistics.median(ratios))
