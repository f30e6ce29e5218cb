#!/usr/bin/env bash
# Make the Debian 12 base image NAME: pull it when a registry answers, else build
# a minimal rootfs with debootstrap and `docker import` it. Reuses NAME if present.
set -euo pipefail

NAME=${1:-paddle-verify/debian:12}
SUITE=bookworm
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'build-base: %s\n' "$*" >&2; }

if docker image inspect "$NAME" >/dev/null 2>&1; then
    say "$NAME already present"
    exit 0
fi

if timeout 20 docker pull -q debian:12 >/dev/null 2>&1; then
    docker tag debian:12 "$NAME"
    say "$NAME tagged from pulled debian:12"
    exit 0
fi
say "no registry reachable: building $NAME with debootstrap"

if ! command -v debootstrap >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
fi

root=$(mktemp -d /tmp/paddle-verify-rootfs.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >/dev/null
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import \
    -c 'CMD ["/bin/bash"]' \
    -c 'ENV LANG=C.UTF-8' \
    -c 'LABEL org.paddle-verify.base=debian-12' \
    - "$NAME" >/dev/null
say "$NAME imported"
