import os, nbformat, time
from nbclient import NotebookClient
os.environ['JUPYTER_PATH'] = '/work/exp/s45/nb/jupyter'
code = r'''
import sys, threading, time
def loop():
  t = time.perf_counter(); s = 0
  for i in range(3_000_000): s += i
  return time.perf_counter() - t
print('gettrace', sys.gettrace(), 'threads', threading.active_count(), [t.name for t in threading.enumerate()])
print('monitoring tools', [sys.monitoring.get_tool(i) for i in range(6)] if hasattr(sys, 'monitoring') else None)
print('py loop s', round(min(loop() for _ in range(3)), 3))
'''
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
NotebookClient(nb, kernel_name='k45', timeout=300).execute()
for o in nb.cells[0].outputs: print(o.get('text', ''))
