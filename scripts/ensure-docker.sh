#!/usr/bin/env bash
# Make `docker info` work: nothing to do if it already does; on Debian, install
# docker.io when the engine is missing, start dockerd and wait for it with a
# deadline. Exits non-zero with one clear line when it cannot.
set -euo pipefail

DEADLINE_S=${DOCKER_START_DEADLINE_S:-60}
LOG=${DOCKERD_LOG:-/var/log/dockerd.log}

say() { printf 'ensure-docker: %s\n' "$*" >&2; }

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

if command -v docker >/dev/null 2>&1 && engine_up; then
    say "engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
    if [ ! -r /etc/debian_version ]; then
        say "no Docker engine and not Debian: install Docker yourself (https://docs.docker.com/engine/install/)"
        exit 2
    fi
    if [ "$(id -u)" != 0 ]; then
        say "no Docker engine; installing docker.io needs root"
        exit 2
    fi
    say "installing Debian's docker.io"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends docker.io iptables ca-certificates >/dev/null
fi

if [ "$(id -u)" != 0 ]; then
    say "dockerd is installed but not running; starting it needs root"
    exit 2
fi

if ! pgrep -x dockerd >/dev/null 2>&1; then
    say "starting dockerd (log: $LOG)"
    # setsid: dockerd outlives this script and is not killed with its process group.
    setsid dockerd >"$LOG" 2>&1 < /dev/null &
fi

end=$((SECONDS + DEADLINE_S))
until engine_up; do
    if [ $SECONDS -ge $end ]; then
        say "dockerd did not answer within ${DEADLINE_S}s; last log lines:"
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.5
done
say "engine ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
