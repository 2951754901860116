#!/bin/bash
# Both README quick-start commands, exactly, from a fresh clone (demo, then tests).
D=/tmp/fresh18; rm -rf $D; git clone -q /work/main $D; cd $D; git log --oneline | head -1
s=$(date +%s)
python3 -m venv .venv && .venv/bin/pip install -e . > /tmp/fresh18_pip1.log 2>&1 && .venv/bin/python -m relgan_jax.main --config=configs/synthetic.py --workdir=runs/synthetic > /tmp/fresh18_demo.log 2>&1
echo "DEMO rc=$? $(( $(date +%s)-s )) s"
s=$(date +%s)
python3 -m venv .venv && .venv/bin/pip install -e '.[test]' > /tmp/fresh18_pip2.log 2>&1 && .venv/bin/python -m pytest -n 2 -q tests --durations=25 2>&1 | tail -40
echo "TESTS rc=$? $(( $(date +%s)-s )) s"
