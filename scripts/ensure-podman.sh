#!/usr/bin/env bash
# Make the Podman service answer on its Docker-compatible socket (what docker-py speaks):
# nothing to do if it already does; on Debian, install podman when it is missing, start
# `podman system service` and wait for it with a deadline. Exits non-zero with one clear
# line when it cannot. Prints the socket's URL (for --engine NAME=URL) on stdout.
#   PODMAN_SOCKET   the socket's path (default /run/podman/podman.sock)
set -euo pipefail

DEADLINE_S=${PODMAN_START_DEADLINE_S:-60}
SOCKET=${PODMAN_SOCKET:-/run/podman/podman.sock}
LOG=${PODMAN_LOG:-/var/log/podman-service.log}
# The suite's own containers.conf for the service it starts (CONTAINERS_CONF replaces the system's
# for this process only). Why: as root, Podman raises every container's RLIMIT_NOFILE and
# RLIMIT_NPROC to 1048576 and 4194304, and where the host's hard limits are lower and raising them
# is not permitted (a VM without CAP_SYS_RESOURCE, as here), every container fails to start with
# "error setting rlimit type 7: operation not permitted". Docker's containers inherit the daemon's
# limits instead; the same here: this shell's hard limits.
CONF=${PODMAN_CONTAINERS_CONF:-/etc/paddle-verify/podman-containers.conf}

say() { printf 'ensure-podman: %s\n' "$*" >&2; }

service_up() { timeout 10 curl -sf --unix-socket "$SOCKET" http://d/_ping >/dev/null 2>&1; }

if [ -S "$SOCKET" ] && service_up; then
    say "service already answering on $SOCKET"
    echo "unix://$SOCKET"
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    say "the Podman service is not answering on $SOCKET; installing and starting it here needs root"
    exit 2
fi

if ! command -v podman >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
    if [ ! -r /etc/debian_version ]; then
        say "no podman and not Debian: install Podman yourself (https://podman.io/docs/installation)"
        exit 2
    fi
    say "installing Debian's podman"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends podman curl ca-certificates >/dev/null
fi

nofile=$(ulimit -Hn) nproc=$(ulimit -Hu)
[ "$nofile" = unlimited ] && nofile=1048576
# Raising RLIMIT_NPROC above RLIMIT_NOFILE's hard limit was refused here too (seen: 20000 starts,
# 65535 does not): both get the smaller of the two.
[ "$nproc" = unlimited ] || [ "$nproc" -gt "$nofile" ] && nproc=$nofile
mkdir -p "$(dirname "$CONF")" "$(dirname "$SOCKET")"
printf '# written by scripts/ensure-podman.sh (see there why)\n[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=%s:%s"]\n' \
    "$nofile" "$nofile" "$nproc" "$nproc" >"$CONF"

if ! pgrep -f "podman system service.*$SOCKET" >/dev/null 2>&1; then
    say "starting podman system service on $SOCKET (log: $LOG)"
    rm -f "$SOCKET"
    # setsid: the service outlives this script and is not killed with its process group.
    CONTAINERS_CONF=$CONF setsid podman system service --time=0 "unix://$SOCKET" >"$LOG" 2>&1 </dev/null &
fi

end=$((SECONDS + DEADLINE_S))
until service_up; do
    if [ $SECONDS -ge $end ]; then
        say "the Podman service did not answer within ${DEADLINE_S}s; last log lines:"
        tail -n 20 "$LOG" >&2 || true
        exit 1
    fi
    sleep 0.5
done
say "service ready ($(podman version --format '{{.Server.Version}}' 2>/dev/null || podman --version))"
echo "unix://$SOCKET"
