"""The benchmarks' analytic FLOP count (DESIGN.md §2), checked by hand, the
programs they time, the fresh-clone script that times the README's
commands and the notebook runner's refusals."""

import os
import subprocess
import sys

import jax

from benchmarks import run_notebook
from benchmarks import stage1_programs
from configs import tiny
from relgan_jax.stage1 import expression_reader

# D at 32x32: four 3x3 convs (2·side²·9·cin·cout each) at 32, 16, 8, 4 px, the
# shared Dense from 2x2xC to 1024, then the De (Ne + 1) and Di (Ni) heads
# 1024 -> 512 -> 256 -> outputs.
_HEADS = 2 * (1024 * 512 + 512 * 256 + 256 * 8) + 2 * (
    1024 * 512 + 512 * 256 + 256 * 64)
_D_FULL = (2 * 32 * 32 * 9 * 3 * 16 + 2 * 16 * 16 * 9 * 16 * 32
           + 2 * 8 * 8 * 9 * 32 * 64 + 2 * 4 * 4 * 9 * 64 * 128
           + 2 * 2 * 2 * 128 * 1024 + _HEADS)        # channels 16..128
_D_EIGHTH = (2 * 32 * 32 * 9 * 3 * 2 + 2 * 16 * 16 * 9 * 2 * 4
             + 2 * 8 * 8 * 9 * 4 * 8 + 2 * 4 * 4 * 9 * 8 * 16
             + 2 * 2 * 2 * 16 * 1024 + _HEADS)       # channels 2..16


def test_discriminator_flops_follow_d_width():
  flops = stage1_programs.analytic_forward_flops
  g_eighth, d_default = flops(32, 0.125, ne=7, ni=64)
  g_same, d_full = flops(32, 0.125, ne=7, ni=64, d_width=1.0)
  assert (d_default, d_full) == (_D_EIGHTH, _D_FULL)
  # config.model.d_width's 0 = G's width, as bench_step passes it.
  assert flops(32, 0.125, ne=7, ni=64, d_width=0.0)[1] == _D_EIGHTH
  assert _D_FULL == 11_669_504
  assert g_same == g_eighth  # D's width does not change G's count.


def test_encoder_flops_by_hand():
  # Ges at 32x32, width 1/8: convs 3->8, 8->16, 16->32, 32->64, 64->64 at
  # 32, 16, 8, 4, 2 px, then the Dense from 1x1x64 to f(e)'s 30.
  expected = (2 * 32 * 32 * 9 * 3 * 8 + 2 * 16 * 16 * 9 * 8 * 16
              + 2 * 8 * 8 * 9 * 16 * 32 + 2 * 4 * 4 * 9 * 32 * 64
              + 2 * 2 * 2 * 9 * 64 * 64 + 2 * 64 * 30)
  assert stage1_programs.analytic_encoder_flops(32, 0.125, 30) == expected


def test_decoder_flops_follow_gde_width():
  # Gde at 32x32: Dense 80 -> 1x1xC0, five (2x up, 3x3 conv) blocks at 2, 4,
  # 8, 16, 32 px, then the 3x3 conv to RGB.
  def decoder(channels):  # DECODER_CHANNELS scaled: 512, 256, 128, 64, 32.
    flops, cin, side = 2 * 80 * channels[0], channels[0], 1
    for cout in channels:
      side *= 2
      flops += 2 * side * side * 9 * cin * cout
      cin = cout
    return flops + 2 * 32 * 32 * 9 * cin * 3

  flops = stage1_programs.analytic_forward_flops
  (g_same, d_same), (g_wide, d_wide) = (
      flops(32, 0.125, ne=7, ni=64, gde_width=w) for w in (0.0, 0.25))
  assert g_wide - g_same == (decoder([128, 64, 32, 16, 8])
                             - decoder([64, 32, 16, 8, 4]))
  assert d_wide == d_same  # Gde's width does not change D's count.


def test_setup_builds_the_programs_with_the_expression_reader():
  """The demo's config runs the reader's term (configs/synthetic.py): the
  benchmarks' programs then carry a reader too, and the iteration traces
  (without one, R's forward pass has no network)."""
  config = tiny.get_config()
  config.loss.lambda_reader = 2.0
  stage1 = stage1_programs.setup(config, ne=7, ni=4,
                                 devices=jax.devices()[:1])
  assert jax.tree_util.tree_leaves(stage1.state.reader)
  lowered = stage1.steps.iteration.lower(stage1.state, stage1.batch)
  assert 'g_reader' in lowered.out_info[1]
  # Without the term, setup's reader model (the one decision,
  # expression_reader.build_model) is None, so its state holds no reader.
  config.loss.lambda_reader = 0.0
  assert expression_reader.build_model(config, 7) is None


_FRESH_CLONE = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'benchmarks', 'fresh_clone.sh')


def _git(repo, *args):
  subprocess.run(['git', '-C', str(repo), *args], check=True,
                 capture_output=True)


def test_fresh_clone_runs_the_readmes_command_at_the_commit(tmp_path):
  """On a made-up repository: the README's line for each mode, run in a
  clone of the checked-out commit (not of later work), logged with its exit
  status; a second run into the same folder and bad arguments are refused."""
  repo = tmp_path / 'repo'
  repo.mkdir()
  _git(repo, 'init', '-q')
  readme = repo / 'README.md'
  readme.write_text(
      'Quick start:\n\n'
      '    echo demo-ran relgan_jax.main --config=configs/synthetic.py; '
      'cat marker.txt\n\n'
      '    echo tests-ran -m pytest; exit 3\n')
  (repo / 'marker.txt').write_text('first commit\n')
  _git(repo, 'add', '.')
  _git(repo, '-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'a')
  (repo / 'marker.txt').write_text('not committed\n')  # Not in the clone.
  out = tmp_path / 'out'

  clones = tmp_path / 'clones'  # The script's temporary folders, not /tmp.
  clones.mkdir()
  run = lambda *args: subprocess.run(  # noqa: E731
      ['bash', _FRESH_CLONE, *args], capture_output=True, text=True,
      check=False, env=dict(os.environ, TMPDIR=str(clones)))
  assert run('demo', str(out), str(repo)).returncode == 0
  log = (out / 'fresh_demo.log').read_text().splitlines()
  assert log[0].endswith(':: echo demo-ran relgan_jax.main '
                         '--config=configs/synthetic.py; cat marker.txt')
  assert log[1].startswith('rc=0 wall=')
  clone = log[2].removeprefix('clone: ')
  assert os.path.dirname(clone) == str(clones)
  assert os.path.isfile(os.path.join(clone, 'README.md'))
  assert (out / 'fresh_demo.out').read_text() == (
      'demo-ran relgan_jax.main --config=configs/synthetic.py\nfirst commit\n')

  tests = run('tests', str(out), str(repo))
  assert tests.returncode == 3  # The command's own status.
  assert (out / 'fresh_tests.log').read_text().splitlines()[1].startswith(
      'rc=3 wall=')
  assert (out / 'fresh_tests.out').read_text() == 'tests-ran -m pytest\n'

  again = run('demo', str(out), str(repo))
  assert again.returncode == 1 and 'fresh_demo.log exists' in again.stderr
  assert run('lint', str(out)).returncode == 2
  assert run('tests').returncode == 2


def test_run_notebook_refuses_an_existing_out_dir_and_restores_the_env(
    tmp_path, monkeypatch):
  """The notebook runner never writes into a folder that exists (one line,
  status 1) and leaves os.environ as it found it (its run: test_notebook)."""
  result = subprocess.run(
      [sys.executable, '-m', 'benchmarks.run_notebook',
       f'--out_dir={tmp_path}'], capture_output=True, text=True, check=False,
      cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
  assert result.returncode == 1
  assert result.stderr.strip().splitlines() == [
      f'run_notebook: {tmp_path} exists; give a new --out_dir (nothing is '
      'overwritten).']
  monkeypatch.setenv('RELGAN_DEMO_SMALL', '0')
  monkeypatch.delenv('RELGAN_DEMO_WORKDIR', raising=False)
  with run_notebook._environment(RELGAN_DEMO_SMALL=None,
                                 RELGAN_DEMO_WORKDIR='/w'):
    assert 'RELGAN_DEMO_SMALL' not in os.environ
    assert os.environ['RELGAN_DEMO_WORKDIR'] == '/w'
  assert os.environ['RELGAN_DEMO_SMALL'] == '0'
  assert 'RELGAN_DEMO_WORKDIR' not in os.environ


def test_run_notebook_progress_names_each_code_cell(capsys):
  import nbformat  # noqa: PLC0415
  nb = nbformat.v4.new_notebook(cells=[
      nbformat.v4.new_markdown_cell('# title'),
      nbformat.v4.new_code_cell('\n# first comment\nx = 1'),
      nbformat.v4.new_code_cell('print(x)')])
  hook = run_notebook._progress_line(nb)
  hook(cell=nb.cells[0], cell_index=0)  # Markdown: no line.
  hook(cell=nb.cells[1], cell_index=1)
  hook(cell=nb.cells[2], cell_index=2)
  lines = capsys.readouterr().out.splitlines()
  assert [line.split(' at ')[0] for line in lines] == [
      'run_notebook: cell 1 of 2', 'run_notebook: cell 2 of 2']
  assert lines[0].endswith(' s: # first comment')
  assert lines[1].endswith(' s: print(x)')
