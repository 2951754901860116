"""How the notebook was executed in session 22 (paths are that session's: /tmp/fresh22 was a
fresh clone with the README's test venv; a kernelspec k22 under JUPYTER_PATH ran its python)."""
import os, time, nbformat
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s22/nb/jupyter'
os.environ['RELGAN_DEMO_WORKDIR'] = '/work/exp/s22/nb/work'
os.environ['PYTHONPATH'] = '/tmp/fresh22'
os.chdir('/tmp/fresh22')
nb = nbformat.read('/tmp/fresh22/notebooks/relgan_demo.ipynb', as_version=4)
t = time.time()
NotebookClient(nb, kernel_name='k22', timeout=1500).execute()
print('seconds', round(time.time() - t))
nbformat.write(nb, '/work/exp/s22/nb/relgan_demo_executed.ipynb')
