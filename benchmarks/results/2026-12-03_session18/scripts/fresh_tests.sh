#!/bin/bash
D=/tmp/fresh18t; rm -rf $D; git clone -q /work/main $D; cd $D; git log --oneline | head -1 | cut -c1-60
s=$(date +%s)
python3 -m venv .venv && .venv/bin/pip install -e '.[test]' > /tmp/fresh18t_pip.log 2>&1
i=$(date +%s); echo "INSTALL $((i-s)) s"
.venv/bin/python -m pytest -n 2 -q tests --durations=30 2>&1 | tail -36
e=$(date +%s); echo "TESTS $((e-i)) s; TOTAL $((e-s)) s"
