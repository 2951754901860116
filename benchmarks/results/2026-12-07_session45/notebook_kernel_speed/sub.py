import os, nbformat, time
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s45/nb/jupyter'
os.chdir('/work/main')
code = r'''
import subprocess, sys, time, shutil
shutil.rmtree('/work/exp/s45/kern/wd_sub', ignore_errors=True)
t = time.time()
r = subprocess.run([sys.executable, '-m', 'relgan_jax.main', '--config=configs/synthetic.py', '--workdir=/work/exp/s45/kern/wd_sub',
  '--mode=train_gan', '--config.data.dir=data/synthetic_pretrain', '--config.data.generate_if_missing=False',
  '--config.train.num_steps=400', '--config.reader.epochs=1', '--config.train.log_every=50',
  '--config.train.checkpoint_every=1000', '--config.train.image_summary_every=1000'], capture_output=True, text=True)
print('rc', r.returncode, 'wall', round(time.time() - t))
import re
print(' '.join(f'{a}:{b}' for a, b in re.findall(r'\[step (\d+)\].*?steps_per_sec=([0-9.]+)', r.stderr)))
print([l[-80:] for l in r.stderr.splitlines() if 'Stage 1:' in l or 'finished at' in l])
'''
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
NotebookClient(nb, kernel_name='k45', timeout=900).execute()
for o in nb.cells[0].outputs: print(o.get('text', ''))
