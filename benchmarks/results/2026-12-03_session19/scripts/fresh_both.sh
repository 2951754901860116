#!/bin/bash
# Fresh clone at main's HEAD, the README's two quick-start commands exactly, each in its own fresh clone+venv.
set -u
L=/work/exp/s19/fresh_both.log; : > $L
rm -rf /tmp/fresh19a /tmp/fresh19b
git clone -q /work/main /tmp/fresh19a && git clone -q /work/main /tmp/fresh19b
echo "HEAD $(git -C /tmp/fresh19a log --oneline -1)" >> $L
cd /tmp/fresh19a; s=$(date +%s); echo "DEMO start $(date)" >> $L
bash -c "python3 -m venv .venv && .venv/bin/pip install -q -e . && .venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=runs/synthetic" > /work/exp/s19/fresh_demo.out 2>&1
echo "DEMO rc $? $(( $(date +%s) - s )) s $(date)" >> $L
grep -o "fingerprint [0-9a-f]*" /work/exp/s19/fresh_demo.out >> $L
cd /tmp/fresh19b; s=$(date +%s); echo "TESTS start $(date)" >> $L
bash -c "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -n 2 -q tests --durations=30" > /work/exp/s19/fresh_tests.out 2>&1
echo "TESTS rc $? $(( $(date +%s) - s )) s $(date)" >> $L
tail -3 /work/exp/s19/fresh_tests.out >> $L
