#!/usr/bin/env bash
# The gate's wall time, this checkout against an earlier commit, side by side:
#   scripts/gate-side-by-side.sh REF [ROUNDS]
# REF is checked out in a worktree with a virtualenv of its own; then ROUNDS pairs of runs
# of `pytest checks/ --manifest variants/reference.toml --variant all -m "not ssh"` alternate
# (REF first in odd pairs, this checkout first in even ones), on the same warm engine and
# images. Prints each run, the medians and the ratio this/REF. THIS_MANIFEST=FILE runs this
# checkout's side with another manifest (e.g. one whose devel builds are off, to see what they cost).
set -euo pipefail
ref=${1:?usage: gate-side-by-side.sh REF [ROUNDS]}
rounds=${2:-5}
here=$(cd "$(dirname "$0")/.." && pwd)
old=/tmp/paddle-verify-$(git -C "$here" rev-parse --short "$ref")
if [ ! -d "$old" ]; then
  git -C "$here" worktree add --detach "$old" "$ref" >/dev/null
fi
if [ ! -x "$old/.venv/bin/pytest" ]; then
  python3 -m venv "$old/.venv"
  "$old/.venv/bin/pip" install -q -e "$old[dev]"
fi
run() {  # $1: checkout; prints the wall seconds of one gate run
  local dir=$1 manifest=${2:-variants/reference.toml} reports start
  reports=$(mktemp -d)
  start=$(date +%s.%N)
  (cd "$dir" && .venv/bin/pytest checks/ -q -p no:cacheprovider --manifest "$manifest" \
     --variant all -m "not ssh" --report-dir "$reports" >"$reports/out" 2>&1) \
     || { echo "gate failed in $dir:" >&2; tail -20 "$reports/out" >&2; exit 1; }
  python3 -c "print($(date +%s.%N) - $start)"
  rm -rf "$reports"
}
this=${THIS_MANIFEST:-variants/reference.toml}
old_t=(); new_t=()
for i in $(seq 1 "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then o=$(run "$old"); n=$(run "$here" "$this"); else n=$(run "$here" "$this"); o=$(run "$old"); fi
  old_t+=("$o"); new_t+=("$n")
  printf 'pair %d: %s %.2fs, this checkout %.2fs\n' "$i" "$ref" "$o" "$n"
done
python3 - "${old_t[*]}" "${new_t[*]}" "$ref" <<'PY'
import statistics, sys
old = [float(x) for x in sys.argv[1].split()]
new = [float(x) for x in sys.argv[2].split()]
ratios = sorted(n / o for o, n in zip(old, new))
print(f"median: {sys.argv[3]} {statistics.median(old):.2f}s, this checkout {statistics.median(new):.2f}s; "
      f"ratio this/{sys.argv[3]}: median {statistics.median(ratios):.3f} (pairs {ratios[0]:.3f}..{ratios[-1]:.3f})")
PY
