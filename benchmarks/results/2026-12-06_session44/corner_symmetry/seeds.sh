for s in 4 5 6; do STOP=200 /work/exp/s44/onset.sh ctrl_xla_s$s --config.model.conv_impl=xla --config.seed=$s; done
