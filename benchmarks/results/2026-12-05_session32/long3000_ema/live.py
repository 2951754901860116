"""Runs a reading script (diag2.py / probe.py) with g_variables reading the live G instead of the average."""
import runpy, sys
from relgan_jax.stage1 import gan_steps
_f = gan_steps.g_variables
gan_steps.g_variables = lambda state, averaged=True: _f(state, averaged=False)
script = sys.argv[1]; sys.argv = sys.argv[1:]
runpy.run_path(script, run_name='__main__')
