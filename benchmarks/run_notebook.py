r"""Executes the Colab demo notebook here, in a kernel of this interpreter, and
keeps what it showed (the README's notebook figures are measured this way):

  python -m benchmarks.run_notebook --out_dir=benchmarks/results/DAY/notebook

writes into --out_dir (which must not exist yet: nothing is overwritten)

  relgan_demo_executed.ipynb  the notebook with its outputs;
  notebook.log                the commit, the settings, the wall seconds and
                              every cell's printed text and markdown;
  work/                       the notebook's workdir (RELGAN_DEMO_WORKDIR):
                              report, pictures, checkpoints.

At its defaults the notebook runs the README's demo config on fold 0 (~12
minutes on 2 cores); --small runs its smallest settings, as the test suite
does (tests/test_notebook.py executes it through `execute`). The kernel is a
kernelspec written under --out_dir, so no kernel needs registering.
"""

import contextlib
import json
import os
import subprocess
import sys
import time
from typing import Iterator, Optional

from absl import app
from absl import flags

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NOTEBOOK = os.path.join(ROOT, 'notebooks', 'relgan_demo.ipynb')
KERNEL = 'relgan-jax-here'


def write_kernelspec(jupyter_dir: str) -> str:
  """A kernelspec under `jupyter_dir` that runs ipykernel in this interpreter;
  returns its name (put `jupyter_dir` on JUPYTER_PATH to use it)."""
  spec_dir = os.path.join(jupyter_dir, 'kernels', KERNEL)
  os.makedirs(spec_dir)
  with open(os.path.join(spec_dir, 'kernel.json'), 'w') as f:
    json.dump({'argv': [sys.executable, '-m', 'ipykernel_launcher', '-f',
                        '{connection_file}'],
               'display_name': 'relgan_jax (this interpreter)',
               'language': 'python'}, f)
  return KERNEL


@contextlib.contextmanager
def _environment(**values: Optional[str]) -> Iterator[None]:
  """os.environ with `values` set (None: removed), restored afterwards."""
  saved = {name: os.environ.get(name) for name in values}
  try:
    _put(values)
    yield
  finally:
    _put(saved)


def _put(values: dict[str, Optional[str]]) -> None:
  """Sets each os.environ[name] to its value, or removes it where None."""
  for name, value in values.items():
    if value is None:
      os.environ.pop(name, None)
    else:
      os.environ[name] = value


def execute(jupyter_dir: str, workdir: str, small: bool, timeout: int,
            notebook: str = NOTEBOOK, progress: bool = False):
  """Runs `notebook` top to bottom in a fresh kernel of this interpreter
  (its working directory the repository root, the repository first on
  PYTHONPATH, its workdir `workdir`); returns the executed nbformat node.
  With `progress`, prints a line as each code cell starts. Raises nbclient's
  CellExecutionError when a cell fails."""
  import nbformat  # noqa: PLC0415 (the test extra's packages)
  from nbclient import NotebookClient  # noqa: PLC0415
  kernel = write_kernelspec(jupyter_dir)
  path = os.pathsep.join([ROOT] + [p for p in [os.environ.get('PYTHONPATH')]
                                   if p])
  nb = nbformat.read(notebook, as_version=4)
  hooks = {'on_cell_start': _progress_line(nb)} if progress else {}
  with _environment(JUPYTER_PATH=jupyter_dir, RELGAN_DEMO_WORKDIR=workdir,
                    RELGAN_DEMO_SMALL='1' if small else None,
                    PYTHONPATH=path):
    NotebookClient(nb, kernel_name=kernel, timeout=timeout,
                   resources={'metadata': {'path': ROOT}},
                   **hooks).execute()
  return nb


def _progress_line(nb):
  """An nbclient on_cell_start hook printing 'cell k of n at t s: <line>'."""
  code = [i for i, c in enumerate(nb.cells) if c.cell_type == 'code']
  start = time.time()

  def hook(cell, cell_index):
    if cell_index not in code:  # nbclient calls it for every cell.
      return
    first = next((line for line in cell.source.splitlines()
                  if line.strip()), '')
    print(f'run_notebook: cell {code.index(cell_index) + 1} of {len(code)} '
          f'at {time.time() - start:.0f} s: {first[:70]}', flush=True)
  return hook


def shown_text(nb) -> str:
  """Every code cell's printed text and markdown output, in order."""
  parts = []
  for cell in nb.cells:
    for output in cell.get('outputs', []):
      if output.get('output_type') == 'stream':
        parts.append(output['text'])
      elif 'text/markdown' in output.get('data', {}):
        parts.append(output['data']['text/markdown'] + '\n')
  return ''.join(parts)


def _commit() -> str:
  result = subprocess.run(['git', '-C', ROOT, 'log', '--oneline', '-1'],
                          capture_output=True, text=True, check=False)
  return result.stdout.strip() or 'no git commit'


_OUT_DIR = flags.DEFINE_string('out_dir', None, 'A new folder for the '
                               'executed notebook, its log and its workdir.')
_SMALL = flags.DEFINE_bool('small', False, 'The notebook\'s smallest '
                           'settings (RELGAN_DEMO_SMALL=1), as the tests run '
                           'it.')
_TIMEOUT = flags.DEFINE_integer('timeout', 3600, 'Seconds any one cell may '
                                'run.')


def main(argv) -> int:
  if len(argv) > 1:
    raise app.UsageError(f'unexpected arguments: {" ".join(argv[1:])}')
  if not _OUT_DIR.value:
    raise app.UsageError('give --out_dir, a new folder for the results.')
  out_dir = os.path.abspath(_OUT_DIR.value)
  if os.path.exists(out_dir):
    print(f'run_notebook: {out_dir} exists; give a new --out_dir (nothing is '
          'overwritten).', file=sys.stderr)
    return 1
  os.makedirs(out_dir)
  import nbformat  # noqa: PLC0415
  start = time.time()
  nb = execute(os.path.join(out_dir, 'jupyter'),
               os.path.join(out_dir, 'work'), _SMALL.value, _TIMEOUT.value,
               progress=True)
  seconds = time.time() - start
  nbformat.write(nb, os.path.join(out_dir, 'relgan_demo_executed.ipynb'))
  with open(os.path.join(out_dir, 'notebook.log'), 'w') as f:
    f.write(f'{_commit()} :: small={_SMALL.value} :: {seconds:.0f} s, '
            f'ended {time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())}'
            f'\n\n{shown_text(nb)}')
  print(f'run_notebook: {seconds:.0f} s; {out_dir}')
  return 0


if __name__ == '__main__':
  app.run(main)
