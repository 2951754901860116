#!/bin/bash
L=/work/exp/s19/fresh_tests.log; : > $L
rm -rf /tmp/fresh19b; git clone -q /work/main /tmp/fresh19b; cd /tmp/fresh19b
echo "HEAD $(git log --oneline -1)" >> $L; s=$(date +%s)
bash -c "python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]' && .venv/bin/python -m pytest -n 2 -q tests" > /work/exp/s19/fresh_tests.out 2>&1
echo "TESTS rc $? $(( $(date +%s) - s )) s $(date)" >> $L; tail -2 /work/exp/s19/fresh_tests.out >> $L
