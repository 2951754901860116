import ctypes, runpy, sys
libc = ctypes.CDLL('libc.so.6')
M_TRIM_THRESHOLD, M_MMAP_MAX, M_ARENA_MAX = -1, -4, -8
ok = [libc.mallopt(M_MMAP_MAX, 0), libc.mallopt(M_TRIM_THRESHOLD, 1 << 30), libc.mallopt(M_ARENA_MAX, 1)]
print('mallopt', ok, file=sys.stderr)
sys.argv = ['bench_step'] + sys.argv[1:]
runpy.run_module('benchmarks.bench_step', run_name='__main__')
