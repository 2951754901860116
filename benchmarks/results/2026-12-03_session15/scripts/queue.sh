#!/bin/bash
# usage: queue.sh WAIT_LOG WT NAME overrides... : waits for WAIT_LOG's DONE, then runs.
wait_log=$1; wt=$2; shift 2
while ! grep -q '^DONE' "$wait_log" 2>/dev/null; do sleep 10; done
cd $wt && WT=$wt exec /work/exp/s12/run_exp_wt.sh "$@"
