"""The package's layering (README, "Code map"): every import of a relgan_jax
module goes downwards, data -> model -> stage1 -> evaluation -> the command
lines, and data_prep uses only relgan_jax.data and relgan_jax.cli."""

import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Lower rank = lower floor; a module may import its own floor or below.
RANKS = {'cli': 0, 'data': 1, 'model': 2, 'config_checks': 3, 'stage1': 4,
         'evaluation': 5, 'workdir_guard': 6, 'main': 6, 'predict': 6,
         'reenact': 6}


def _floor(module: str) -> str:
  """'relgan_jax.data.records' -> 'data'; 'relgan_jax.cli' -> 'cli'."""
  return module.split('.')[1]


def _imports(path: str) -> set[str]:
  """Every module `path` imports (top level or inside functions), as
  'package.module' for `from package import module`."""
  tree = ast.parse(open(path).read(), path)
  found = set()
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found |= {a.name for a in node.names}
    elif isinstance(node, ast.ImportFrom) and node.module:
      found |= {f'{node.module}.{a.name}' for a in node.names}
  return found


def _relgan_imports(path: str) -> set[str]:
  return {m for m in _imports(path) if m.startswith('relgan_jax.')}


def _python_files(folder: str):
  for root, _, files in os.walk(os.path.join(REPO, folder)):
    for name in sorted(files):
      if name.endswith('.py'):
        yield os.path.join(root, name)


def _module_name(path: str) -> str:
  rel = os.path.relpath(path, REPO)[:-len('.py')]
  return rel.replace(os.sep, '.').removesuffix('.__init__')


def test_every_module_has_a_floor():
  for path in _python_files('relgan_jax'):
    name = _module_name(path)
    if name != 'relgan_jax':
      assert _floor(name) in RANKS, f'{name}: not placed in RANKS'


def test_relgan_jax_imports_go_downwards_only():
  upward = []
  for path in _python_files('relgan_jax'):
    name = _module_name(path)
    if name == 'relgan_jax':
      continue
    for dep in _relgan_imports(path):
      if RANKS[_floor(dep)] > RANKS[_floor(name)]:
        upward.append(f'{name} imports {dep}')
    assert not any(m.split('.')[0] == 'data_prep' for m in _imports(path)), (
        f'{name} imports data_prep')
  assert not upward, upward


def test_data_prep_touches_only_the_data_side():
  for path in _python_files('data_prep'):
    for dep in _relgan_imports(path):
      assert _floor(dep) in ('data', 'cli'), (
          f'{_module_name(path)} imports {dep}')


def test_the_check_sees_an_upward_import(tmp_path):
  # The walk finds imports inside functions, in both spellings.
  bad = tmp_path / 'bad.py'
  bad.write_text('def f():\n  from relgan_jax.evaluation import report\n'
                 'import relgan_jax.stage1.train\n')
  assert _relgan_imports(str(bad)) == {'relgan_jax.evaluation.report',
                                       'relgan_jax.stage1.train'}
