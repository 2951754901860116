"""The notebook at its defaults in the development venv (kernelspec k26 runs /work/main/.venv's python)."""
import os, time, nbformat
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s51/nb/jupyter'
os.environ['RELGAN_DEMO_WORKDIR'] = '/work/exp/s51/nb/work'
os.environ['PYTHONPATH'] = '/work/main'
os.chdir('/work/main')
nb = nbformat.read('/work/main/notebooks/relgan_demo.ipynb', as_version=4)
t = time.time()
NotebookClient(nb, kernel_name='k45', timeout=1500).execute()
print('seconds', round(time.time() - t))
nbformat.write(nb, '/work/exp/s51/nb/relgan_demo_executed.ipynb')
for c in nb['cells']:
  for o in c.get('outputs', []):
    if o.get('output_type') == 'stream':
      print(o['text'][-3000:])
    elif 'data' in o and 'text/markdown' in o['data']:
      print(o['data']['text/markdown'][-2500:])
