#!/usr/bin/env bash
# Make `PY -m venv` and `PY -m pip` work (the Makefile's virtualenv and wheelhouse steps):
# nothing to do if they already do; on Debian or Ubuntu as root, install what is missing
# (python3-venv, python3-pip) with apt; otherwise say exactly what is missing, in one line.
set -euo pipefail

PY=${1:-python3}
say() { printf 'ensure-python: %s\n' "$*" >&2; }

command -v "$PY" >/dev/null 2>&1 || { say "no $PY on PATH: install Python >= 3.11 (Debian: apt-get install python3)"; exit 2; }
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
    { say "$PY is $("$PY" -c 'import platform; print(platform.python_version())'); paddle-verify needs >= 3.11 (make PY=python3.11 ...)"; exit 2; }

missing=()
"$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 || missing+=(python3-venv)
"$PY" -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
[ ${#missing[@]} -eq 0 ] && exit 0

if [ -r /etc/debian_version ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${missing[@]}" >/dev/null
    "$PY" -c 'import ensurepip, venv' && "$PY" -m pip --version >/dev/null ||
        { say "still missing after apt-get install ${missing[*]}"; exit 2; }
    exit 0
fi
say "missing: ${missing[*]} (for $PY -m venv / -m pip); install them (Debian: apt-get install ${missing[*]}), or run make as root on Debian"
exit 2
