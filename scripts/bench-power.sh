#!/usr/bin/env bash
# How often the CPU gate sees a slowdown, and how often it flags the clean image: N runs of
# each, alternated (clean, quota, clean, quota, ...), of the three CPU workloads of one variant.
# A "quota" run gives the container `--bench-cpus QUOTA` (0.95: 5% slower under sustained load).
# Prints one line per run (workload: outcome ratio [95% interval]; the stalls' own ratio and
# interval; the run's seconds) and, per workload, the fails of each kind of run.
#   usage: scripts/bench-power.sh [N [QUOTA [THRESHOLD_PERCENT [VARIANT]]]]   (default: 10 0.95 3 cpu)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10}
QUOTA=${2:-0.95}
THRESHOLD=${3:-3}
VARIANT=${4:-cpu}
out=$(mktemp -d /tmp/bench-power.XXXXXX)
echo "bench-power: $N clean and $N runs under --bench-cpus $QUOTA, threshold $THRESHOLD%, variant $VARIANT ($(date -u +%F))"
for i in $(seq 1 "$N"); do
    for mode in clean quota; do
        extra=(); [ "$mode" = quota ] && extra=(--bench-cpus "$QUOTA")
        start=$SECONDS
        .venv/bin/pytest benchmarks/test_cpu.py --manifest variants/reference.toml --variant "$VARIANT" \
            -k overhead --threshold "$THRESHOLD" -p no:cacheprovider -q \
            --report-dir "$out/$mode-$i" "${extra[@]}" >"$out/$mode-$i.log" 2>&1 || true
        python3 - "$out/$mode-$i/benchmarks.json" "$mode" "$i" "$((SECONDS - start))" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
cells = [f"{c['group'].split()[-1]}: {c['verdict']['outcome']} {c['verdict']['ratio']:.3f} "
         f"[{c['verdict']['low']:.3f},{c['verdict']['high']:.3f}]" for c in d["comparisons"]]
v = d["comparisons"][0]["verdict"]  # the stalls: measured once a variant, every workload's
stalls = f"stalls {v['stall_ratio']:.3f} [{v['stall_low']:.3f},{v['stall_high']:.3f}]"
print(f"{sys.argv[2]:5} run {sys.argv[3]:>2} ({sys.argv[4]}s): " + "; ".join(cells) + f"; {stalls}", flush=True)
PY
    done
done | tee "$out/log"
echo "--- per workload: fails / runs (quota: should fail; clean: should not)"
for mode in clean quota; do
    for w in interp matmul train; do
        n=$(grep -c "^$mode" "$out/log"); f=$(grep "^$mode" "$out/log" | grep -c "$w: fail" || true)
        u=$(grep "^$mode" "$out/log" | grep -c "$w: unstable" || true)
        echo "$mode $w: $f fail, $u unstable, of $n"
    done
done
echo "--- seconds per run: $(grep -o '([0-9]*s)' "$out/log" | tr -d '()s' | sort -n | tr '\n' ' ')"
echo "logs: $out"
