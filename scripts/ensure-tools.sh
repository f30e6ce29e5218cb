#!/usr/bin/env bash
# The self-tests' real parts besides the engine, from Debian's archive: a registry
# (docker-registry, the CNCF distribution registry), an sshd (openssh-server, for the
# ssh:// engine) and a headless browser (chromium, to open report.html). Installed,
# never started here: each test starts its own on a loopback port and stops it.
# Nothing to do when all are there; exits non-zero with one clear line when it cannot.
set -euo pipefail

say() { printf 'ensure-tools: %s\n' "$*" >&2; }

want=()
command -v docker-registry >/dev/null 2>&1 || [ -x /usr/bin/docker-registry ] || want+=(docker-registry)
[ -x /usr/sbin/sshd ] || want+=(openssh-server)
command -v ssh >/dev/null 2>&1 || want+=(openssh-client)
command -v chromium >/dev/null 2>&1 || want+=(chromium)

if [ ${#want[@]} -eq 0 ]; then
    exit 0
fi
if [ ! -r /etc/debian_version ] || [ "$(id -u)" != 0 ]; then
    say "missing ${want[*]}: install them yourself (Debian packages; installing needs root)"
    exit 2
fi
say "installing Debian's ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
# Installed, not started: no service of theirs runs (the tests start their own).
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
