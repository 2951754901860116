"""How the notebook was executed in session 25 (the development tree /work/main and its venv; a kernelspec k25 under JUPYTER_PATH ran that venv's python)."""
import os, time, nbformat
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s25/nb/jupyter'
os.environ['RELGAN_DEMO_WORKDIR'] = '/work/exp/s25/nb/work'
os.environ['PYTHONPATH'] = '/work/main'
os.chdir('/work/main')
nb = nbformat.read('/work/main/notebooks/relgan_demo.ipynb', as_version=4)
t = time.time()
NotebookClient(nb, kernel_name='k25', timeout=1500).execute()
print('seconds', round(time.time() - t))
nbformat.write(nb, '/work/exp/s25/nb/relgan_demo_executed.ipynb')
