#!/bin/bash
# wait for full14's stage 1+2 to finish, then the temperature screenings
while ! grep -q "report" /work/exp/runs/full14.log 2>/dev/null || pgrep -f "workdir=/work/exp/runs/full14" >/dev/null; do sleep 20; done
WT=/work/main /work/exp/s12/run_exp_wt.sh t05_s0 --config.loss.fe_contrast_temperature=0.05
WT=/work/main /work/exp/s12/run_exp_wt.sh t05_s1 --config.loss.fe_contrast_temperature=0.05 --config.seed=1
