#!/usr/bin/env bash
# The GPU host check, prepared for a session that is lent a GPU machine (the `device` tool's H200:
# no Docker engine, no registry). One call, from the repository root, within 5 minutes:
#     run(command="bash scripts/gpu-host-check.sh", timeout_s=300)
# Installs nothing: the host's own python3 runs the package from this tree (PYTHONPATH); the
# host side of paddle_verify needs the standard library alone (Python 3.11+ for a manifest).
# Prints, and writes to $OUT/gpu-host-check.txt (the device tool's folder; /tmp without one):
# nvidia-smi -L and nvidia-smi, the device nodes and driver files, `paddle-verify host` against a
# three-variant manifest (CUDA 11.8, 12.6, 13.0) and the reference gpu manifest, and the GPU
# probe's raw JSON (libcuda loaded by the host's Python). Keep that file under docs/measurements/
# and fix every difference from the self-tests' doubles (tests/doubles/nvidia, tests/test_gpu.py).
# Never run on a real GPU yet: no machine was lent on 2026-12-03.
set -u
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
out_dir="${OUT:-/tmp}"
report="$out_dir/gpu-host-check.txt"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() { printf '\n### %s\n' "$*"; }

# Directories holding the driver's libraries beyond the ones discovery searches by default:
# where the dynamic linker finds libcuda.so.1, the NVIDIA container layout, LD_LIBRARY_PATH.
lib_dirs() {
  {
    ldconfig -p 2>/dev/null | awk '/libcuda\.so\.1 / {print $NF}' | xargs -r -n1 dirname
    echo /usr/local/nvidia/lib64
    echo /usr/local/nvidia/lib
    tr ':' '\n' <<<"${LD_LIBRARY_PATH:-}"
  } | sort -u | while read -r d; do
    case "$d" in /*) ;; *) continue ;; esac
    if compgen -G "$d/libcuda*" >/dev/null || compgen -G "$d/libnvidia*" >/dev/null; then
      printf -- '--driver-lib-dir\n%s\n' "$d"
    fi
  done
}

host() {
  local args=()
  mapfile -t args < <(lib_dirs)
  timeout 90 python3 -c 'import sys; from paddle_verify.cli import main; sys.exit(main(sys.argv[1:]))' \
    host --timeout 20 "${args[@]}" "$@"
  echo "exit status: $?"
}

cat >"$work/three.toml" <<'EOF'
[suite]
image = "paddle-verify/none:{tag}-{variant}"

[variants.cuda-11-8]
flavour = "gpu"
role = "runtime"
cuda = "11.8"

[variants.cuda-12-6]
flavour = "gpu"
role = "runtime"
cuda = "12.6"

[variants.cuda-13-0]
flavour = "gpu"
role = "runtime"
cuda = "13.0"
EOF

{
  step "when, where"
  date -u +%Y-%m-%dT%H:%M:%SZ
  uname -srm
  python3 --version
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  step "nvidia-smi -L"
  timeout 20 nvidia-smi -L; echo "exit status: $?"
  step "nvidia-smi"
  timeout 20 nvidia-smi; echo "exit status: $?"
  step "device nodes, driver version, driver libraries"
  ls -la /dev/nvidia* 2>&1
  cat /proc/driver/nvidia/version 2>&1
  ls /proc/driver/nvidia/gpus 2>&1
  ldconfig -p 2>/dev/null | grep -E 'libcuda|libnvidia-ml' || echo "ldconfig: no libcuda / libnvidia-ml"
  step "driver library directories passed on: $(lib_dirs | grep -v '^--' | tr '\n' ' ')"
  step "paddle-verify host --manifest (three gpu variants: CUDA 11.8, 12.6, 13.0)"
  host --manifest "$work/three.toml"
  if python3 -c 'import tomllib' 2>/dev/null; then
    step "paddle-verify host --manifest variants/reference-gpu.toml"
    host --manifest variants/reference-gpu.toml
  fi
  step "the GPU probe's JSON (libcuda by the host's Python; paddle not asked)"
  timeout 60 python3 - $(lib_dirs | grep -v '^--') <<'EOF'
import json
import sys
from pathlib import Path

from paddle_verify.gpu.host import discover
from paddle_verify.gpu.readiness import run_probe

raw, why = run_probe(discover(lib_dirs=[Path(d) for d in sys.argv[1:]]), 20.0)
for step in (raw or {}).values():  # the child's argv holds the script's text: its interpreter is enough
    if isinstance(step, dict) and "argv" in step:
        step["argv"] = step["argv"][:1]
print(json.dumps(raw, indent=1, sort_keys=True) if raw is not None else why)
EOF
  echo "exit status: $?"
} 2>&1 | tee "$report"
echo "written: $report"
