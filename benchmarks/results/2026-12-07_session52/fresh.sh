#!/bin/bash
# fresh.sh tests|demo NAME: fresh clone of /work/main's HEAD to /tmp/fresh52_NAME, runs the README's command.
set -u
what=$1; name=$2; dir=/tmp/fresh52_$name
rm -rf $dir && git clone -q -b ${BRANCH:-main} /work/main $dir && cd $dir
if [ $what = tests ]; then
  cmd=$(grep -m1 -- "-m pytest" README.md | sed 's/^ *//')
else
  cmd=$(grep -m1 -- "relgan_jax.main --config=configs/synthetic.py" README.md | sed 's/^ *//')
fi
echo "$(git log --oneline -1) :: $cmd" > /work/exp/s52/fresh_$name.log
start=$(date +%s)
bash -c "$cmd" > /work/exp/s52/fresh_$name.out 2>&1
echo "rc=$? wall=$(( $(date +%s)-start ))" >> /work/exp/s52/fresh_$name.log
