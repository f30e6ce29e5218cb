#!/usr/bin/env bash
# Make a Debian base image NAME of release SUITE (bookworm: Debian 12, the default;
# bullseye: Debian 11, for the Python 2.7 era): pull debian:N when a registry answers,
# else build a minimal rootfs with debootstrap and `docker import` it. Reuses NAME if present.
#   images/base/build-base.sh [NAME [SUITE]]
set -euo pipefail

SUITE=${2:-bookworm}
case "$SUITE" in
    bookworm) RELEASE=12 ;;
    bullseye) RELEASE=11 ;;
    *) echo "build-base: unknown suite $SUITE (bookworm or bullseye)" >&2; exit 2 ;;
esac
NAME=${1:-paddle-verify/debian:$RELEASE}
MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}

say() { printf 'build-base: %s\n' "$*" >&2; }

if docker image inspect "$NAME" >/dev/null 2>&1; then
    say "$NAME already present"
    exit 0
fi

if timeout 20 docker pull -q "debian:$RELEASE" >/dev/null 2>&1; then
    docker tag "debian:$RELEASE" "$NAME"
    say "$NAME tagged from pulled debian:$RELEASE"
    exit 0
fi
say "no registry reachable: building $NAME ($SUITE) with debootstrap"

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
    -c "LABEL org.paddle-verify.base=debian-$RELEASE" \
    - "$NAME" >/dev/null
say "$NAME imported"
