#!/bin/bash
# fresh.sh tests|demo NAME: the README's quick-start command (taken from README.md
# itself) in a fresh clone + fresh venv, timed.
set -u
kind=$1; name=$2; L=/work/exp/s28/fresh_$name.log; : > $L
d=/tmp/fresh28_$name; rm -rf $d; git clone -q /work/main $d; cd $d
if [ $kind = tests ]; then cmd=$(grep -m1 "^    python3 -m venv.*pytest" README.md | sed 's/^    //'); else cmd=$(grep -m1 "^    python3 -m venv.*relgan_jax.main" README.md | sed 's/^    //'); fi
echo "HEAD $(git log --oneline -1)" >> $L; echo "CMD $cmd" >> $L
s=$(date +%s); echo "start $(date)" >> $L
bash -c "$cmd" > /work/exp/s28/fresh_$name.out 2>&1
echo "rc $? TOTAL $(( $(date +%s) - s )) s end $(date)" >> $L
grep "passed\|failed" /work/exp/s28/fresh_$name.out | tail -2 >> $L
grep -o "fingerprint [0-9a-f]*" /work/exp/s28/fresh_$name.out >> $L
