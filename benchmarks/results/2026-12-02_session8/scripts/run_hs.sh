#!/bin/bash
# usage: run_hs.sh NAME K overrides...
name=$1; K=$2; shift 2
cd /work/main
rm -rf /work/exp/runs/$name /work/exp/runs/${name}_init
.venv/bin/python /work/exp/s8/d_head_start.py /work/exp/runs/$name $K "$@" > /work/exp/runs/$name.log 2>&1
.venv/bin/python /work/exp/probe.py /work/exp/runs/$name /work/exp/eval >> /work/exp/runs/$name.log 2>&1
echo DONE >> /work/exp/runs/$name.log
