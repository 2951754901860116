#!/bin/bash
# usage: run_gn.sh NAME [overrides...]   (experiment worktree, GroupNorm groups scaled with width 0.25)
name=$1; shift
cd /work/exp_wt; export PYTHONPATH=/work/exp_wt:/work/exp/s8 GN_WIDTH=0.25
export GLIBC_TUNABLES=$(/work/main/.venv/bin/python -c "from relgan_jax import host_malloc; print(host_malloc.TUNABLES)")
rm -rf /work/exp/runs/$name
start=$(date +%s)
/work/main/.venv/bin/python -c "
import sys, patch_groups
from relgan_jax import main
sys.argv = ['relgan_jax.main'] + sys.argv[1:]
from absl import app
app.run(main.main, flags_parser=main.parse_flags)" --config=configs/synthetic.py --workdir=/work/exp/runs/$name --mode=train_gan \
  --config.data.dir=/work/exp/pre --config.data.generate_if_missing=False --config.data.synthetic_pretrain_identities=0 \
  --config.protocol.freeze_pretrained=False "$@" > /work/exp/runs/$name.log 2>&1
echo "stage1 seconds $(( $(date +%s) - start ))" >> /work/exp/runs/$name.log
/work/main/.venv/bin/python -c "
import os; os.environ['GN_FORCE_G'] = '1'
import sys; sys.argv = ['probe.py', '/work/exp/runs/$name', '/work/exp/eval']
import patch_groups
exec(open('/work/exp/probe.py').read())" >> /work/exp/runs/$name.log 2>&1
echo DONE >> /work/exp/runs/$name.log
