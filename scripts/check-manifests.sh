#!/usr/bin/env bash
# One report for a job over several manifests (`make check`): each manifest's pytest run writes
# its own report directory, REPORTS/runs/<manifest's name>, then `paddle-verify merge` writes
# REPORTS/ (summary.json, junit.xml, report.html, facts.json) over all their variants. Every
# manifest runs even when one fails; the exit status is the merged report's (the worst of the
# runs': 1 a check failed, 8 only the host's failures, a run's 2, 4 or 7), or 4 when a run left
# no report to merge.
#
# usage: scripts/check-manifests.sh REPORTS MANIFEST... [-- PYTEST_ARGS...]
#   BIN: the venv's bin directory (default: .venv/bin of this checkout)
# Each run is `pytest checks/ --manifest MANIFEST --variant all --allow-no-gpu`: on a host without
# a GPU the gpu variants' GPU-device checks are reported as not run; on a host with one they run.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${BIN:-$root/.venv/bin}
if [ $# -lt 2 ]; then
	echo "usage: $0 REPORTS MANIFEST... [-- PYTEST_ARGS...]" >&2
	exit 4
fi
reports=$1
shift
manifests=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do
	manifests+=("$1")
	shift
done
[ $# -gt 0 ] && shift # the --
rm -rf "$reports/runs"
dirs=()
for manifest in "${manifests[@]}"; do
	dir="$reports/runs/$(basename "$manifest" .toml)"
	dirs+=("$dir")
	"$bin/pytest" "$root/checks/" --manifest "$manifest" --variant all --allow-no-gpu --report-dir "$dir" "$@"
done
exec "$bin/paddle-verify" merge "${dirs[@]}" -o "$reports" --exit-status
