"""The notebook at its defaults in the development venv (kernelspec k26 runs /work/main/.venv's python)."""
import os, time, nbformat
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s26/nb/jupyter'
os.environ['RELGAN_DEMO_WORKDIR'] = '/work/exp/s26/nb/work'
os.environ['PYTHONPATH'] = '/work/main'
os.chdir('/work/main')
nb = nbformat.read('/work/main/notebooks/relgan_demo.ipynb', as_version=4)
t = time.time()
NotebookClient(nb, kernel_name='k26', timeout=1500).execute()
print('seconds', round(time.time() - t))
nbformat.write(nb, '/work/exp/s26/nb/relgan_demo_executed.ipynb')
