#!/usr/bin/env bash
# One of the README's two quick-start commands, exactly as written, in a fresh
# clone (issues 14 and 16 measure both this way):
#   bash benchmarks/fresh_clone.sh tests|demo OUT_DIR [REPO]
# clones REPO (default: this repository) at its checked-out commit into a new
# temporary folder, runs there the README's test command (tests) or its first
# command (demo: the synthetic set end to end), and writes
#   OUT_DIR/fresh_<tests|demo>.log  the commit, the command, its exit status
#                                   and wall seconds;
#   OUT_DIR/fresh_<tests|demo>.out  everything the command printed.
# The clone (with its venv and, for demo, runs/synthetic/'s report and
# pictures) is kept; its path is the log's last line. Refuses an OUT_DIR that
# already holds that log: nothing is overwritten.
set -uo pipefail
what=${1:-}; out=${2:-}
repo=${3:-$(cd "$(dirname "$0")/.." && pwd)}
case "$what" in
  tests) pattern='-m pytest' ;;
  demo) pattern='relgan_jax.main --config=configs/synthetic.py' ;;
  *) echo "usage: fresh_clone.sh tests|demo OUT_DIR [REPO]" >&2; exit 2 ;;
esac
if [[ -z "$out" ]]; then
  echo "fresh_clone.sh: give OUT_DIR, the folder for the log and output." >&2
  exit 2
fi
log="$out/fresh_$what.log"
if [[ -e "$log" ]]; then
  echo "fresh_clone.sh: $log exists; give another OUT_DIR." >&2
  exit 1
fi
mkdir -p "$out" && out=$(cd "$out" && pwd)
dir=$(mktemp -d "${TMPDIR:-/tmp}/relgan_fresh_${what}_XXXX")
commit=$(git -C "$repo" rev-parse HEAD) || exit 1
git clone -q "$repo" "$dir" && git -C "$dir" checkout -q "$commit" || exit 1
cd "$dir" || exit 1
cmd=$(grep -m1 -F -- "$pattern" README.md | sed 's/^ *//')
if [[ -z "$cmd" ]]; then
  echo "fresh_clone.sh: no line with '$pattern' in $repo's README.md." >&2
  exit 1
fi
echo "$(git log --oneline -1) :: $cmd" > "$log"
start=$(date +%s)
bash -c "$cmd" > "$out/fresh_$what.out" 2>&1
rc=$?
echo "rc=$rc wall=$(( $(date +%s) - start )) $(date -u)" >> "$log"
echo "clone: $dir" >> "$log"
exit $rc
