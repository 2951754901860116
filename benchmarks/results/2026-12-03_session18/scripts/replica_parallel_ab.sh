#!/bin/bash
# Setup: /tmp/s18ab/on and /tmp/s18ab/off hold copies of the tree (git ls-files), "on" with checkpointing.py
# as before 90fedb0; /tmp/s18tiny/data is the tests' tiny synthetic set (conftest.data_dir's arguments).
# Interleaved A/B of a tiny 2-device stage-1 command line: orbax replica-parallel save on (old) / off (new).
export XLA_FLAGS="--xla_force_host_platform_device_count=2 --xla_cpu_use_fusion_emitters=false" JAX_PLATFORMS=cpu JAX_DISABLE_MOST_OPTIMIZATIONS=1
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0
export GLIBC_TUNABLES=$(cd /work/main && .venv/bin/python -c "from relgan_jax.stage1 import host_malloc; print(host_malloc.TUNABLES)")
for v in on off; do export JAX_COMPILATION_CACHE_DIR=/tmp/s18ab/cache_$v; rm -rf $JAX_COMPILATION_CACHE_DIR; done
for i in 0 1 2 3 4 5; do for v in on off; do
  export JAX_COMPILATION_CACHE_DIR=/tmp/s18ab/cache_$v; cd /tmp/s18ab/$v; rm -rf /tmp/s18ab/w_$v
  /usr/bin/time -f "$i $v WALL %e CPU %U %S" /work/main/.venv/bin/python -m relgan_jax.main --config=configs/tiny.py --workdir=/tmp/s18ab/w_$v --config.loss.d_terms_warmup=0 --mode=train_gan --config.data.dir=/tmp/s18tiny/data --config.protocol.num_folds=2 --config.train.num_steps=4 --config.train.log_every=1 --config.train.checkpoint_every=2 --config.train.image_summary_every=0 --config.train.g_boost_start=0.5 --config.data.read_threads=1 2>&1 | grep WALL
done; done
