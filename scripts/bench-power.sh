#!/usr/bin/env bash
# How often the CPU gate sees a 10% slowdown (--cpus=0.9) and how often it
# flags the clean image: N runs of each, alternated. Prints one line per run
# (workload: outcome ratio [CI]) and the counts. Usage: scripts/bench-power.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
out=$(mktemp -d /tmp/bench-power.XXXXXX)
for i in $(seq 1 "$N"); do
    for mode in clean quota; do
        extra=(); [ "$mode" = quota ] && extra=(--bench-cpus 0.9)
        start=$SECONDS
        .venv/bin/pytest benchmarks/test_cpu.py --manifest variants/reference.toml --variant cpu \
            -p no:cacheprovider -q --benchmark-disable-gc --report-dir "$out/$mode-$i" "${extra[@]}" >/dev/null 2>&1 || true
        python3 - "$out/$mode-$i/benchmarks.json" "$mode" "$i" "$((SECONDS - start))" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cells = [f"{c['group'].split()[-1]}: {c['verdict']['outcome']} {c['verdict']['ratio']:.3f} "
         f"[{c['verdict']['low']:.3f},{c['verdict']['high']:.3f}]" for c in d["comparisons"]]
print(f"{sys.argv[2]:5} run {sys.argv[3]:>2} ({sys.argv[4]}s): " + "; ".join(cells), flush=True)
PY
    done
done | tee "$out/log"
echo "--- per workload: fails / runs"
for mode in clean quota; do
    for w in interp matmul train; do
        n=$(grep -c "^$mode" "$out/log"); f=$(grep "^$mode" "$out/log" | grep -c "$w: fail" || true)
        u=$(grep "^$mode" "$out/log" | grep -c "$w: unstable" || true)
        echo "$mode $w: $f fail, $u unstable, of $n"
    done
done
