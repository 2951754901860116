cd /work/main
export GLIBC_TUNABLES=glibc.malloc.hugetlb=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=68719476736:glibc.malloc.arena_max=1
for v in full nodata none; do
  rm -rf /tmp/s36_ck_$v
  date; echo $v
  .venv/bin/python /work/exp/s36/ckpt/run.py $v /tmp/s36_ck_$v > /work/exp/s36/ckpt/$v.log 2>&1
  .venv/bin/python /work/exp/s35/windows.py /tmp/s36_ck_$v
done
date
