"""Executes notebooks/relgan_demo.ipynb at its defaults in a fresh WORKDIR, timed; saves the executed notebook."""
import json, os, sys, time
import nbformat
from nbclient import NotebookClient
root = sys.argv[1]; out = sys.argv[2]
os.makedirs(out, exist_ok=True)
spec = os.path.join(out, 'jupyter', 'kernels', 'rj')
os.makedirs(spec, exist_ok=True)
json.dump({'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
           'display_name': 'rj', 'language': 'python'}, open(os.path.join(spec, 'kernel.json'), 'w'))
os.environ['JUPYTER_PATH'] = os.path.join(out, 'jupyter')
os.environ['RELGAN_DEMO_WORKDIR'] = os.path.join(out, 'workdir')
os.environ['PYTHONPATH'] = root
nb = nbformat.read(os.path.join(root, 'notebooks', 'relgan_demo.ipynb'), as_version=4)
s = time.time()
NotebookClient(nb, kernel_name='rj', timeout=3600, resources={'metadata': {'path': root}}).execute()
print(f'NOTEBOOK SECONDS {time.time() - s:.0f}')
nbformat.write(nb, os.path.join(out, 'executed.ipynb'))
for c in nb.cells:
  if c.cell_type == 'code':
    for o in c.outputs:
      if o.output_type == 'stream': print(o.text)
      if o.output_type == 'error': print('ERROR', o.ename, o.evalue)
