import sys, time
sys.argv = [sys.argv[0], '--batch=16', '--image_size=64', '--width=0.25', '--d_width=0.5', '--gde_width=0.5', '--d_norm=group', '--ne=7', '--ni=128', '--lambda_reader=1000', '--lambda_fe_contrast=500', '--pixel_change_weight=1', '--g_ema_decay=0.999']
from absl import flags
from benchmarks import bench_step, stage1_programs
FLAGS = flags.FLAGS
FLAGS(sys.argv)
config = bench_step.config_from_flags()
st = stage1_programs.setup(config, ne=7, ni=128)
t = time.perf_counter()
low = st.steps.iteration.lower(st.state, st.batch)
t1 = time.perf_counter()
c = low.compile()
t2 = time.perf_counter()
print('lower', round(t1 - t, 1), 'compile', round(t2 - t1, 1))
