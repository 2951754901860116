"""Stage 1 alone for 400 its (reader 1 epoch) inside a Jupyter kernel (nbclient), as the notebook runs it:
host_malloc.tune_in_process(), protocol-style train_gan on the pre-training set. MODE env: kernel (default)."""
import os, sys, time, nbformat
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s45/nb/jupyter'
os.chdir('/work/main')
code = r'''
import time, numpy as np
from relgan_jax.stage1 import host_malloc, train
print('tuned', host_malloc.tune_in_process())
import os
if os.environ.get('NOBAR'): train._stderr_is_tty = lambda: False
from configs import synthetic
from relgan_jax.data import loading
config = synthetic.get_config()
config.data.dir = 'data/synthetic_pretrain'
config.data.generate_if_missing = False
config.train.num_steps = 400
config.reader.epochs = 1
config.train.log_every = 50
config.train.checkpoint_every = 1000
config.train.image_summary_every = 1000
ds = loading.open_prepared('data/synthetic_pretrain', config)
idx = loading.select_records(ds, np.arange(len(ds)), config)
import shutil; shutil.rmtree('/work/exp/s45/kern/wd', ignore_errors=True)
t = time.time(); train.train_gan(config, '/work/exp/s45/kern/wd', ds, idx); print('stage1 s', round(time.time() - t))
'''
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
t = time.time()
NotebookClient(nb, kernel_name='k45', timeout=1500).execute()
print('seconds', round(time.time() - t))
import re
text = ''.join(o.get('text', '') for o in nb.cells[0].outputs if o.get('output_type') == 'stream')
print(' '.join(f'step {a} {b}' for a, b in re.findall(r'\[step (\d+)\].*?steps_per_sec=([0-9.]+)', text)))
print([l for l in text.splitlines() if 'tuned' in l or 'stage1 s' in l])
nbformat.write(nb, '/work/exp/s45/kern/executed_' + os.environ.get('TAG', 'x') + '.ipynb')
