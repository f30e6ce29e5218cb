#!/usr/bin/env bash
# Copy images from the local Docker engine into Podman's storage (`docker save | podman load`),
# each only when Podman does not hold it already under the same ID (the config digest, which both
# engines compute alike):   scripts/copy-to-podman.sh IMAGE...
# Images that share layers go in one stream, so their layers are sent once.
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 IMAGE..." >&2; exit 2; }
say() { printf 'copy-to-podman: %s\n' "$*" >&2; }

todo=()
for image in "$@"; do
    want=$(docker image inspect -f '{{.Id}}' "$image") || { say "$image: not on the Docker engine"; exit 1; }
    have=$(podman image inspect -f '{{.Id}}' "$image" 2>/dev/null || true)
    if [ "sha256:${have#sha256:}" = "$want" ]; then
        say "$image: up to date in Podman ($want)"
    else
        todo+=("$image")
    fi
done
[ ${#todo[@]} -eq 0 ] && exit 0
say "loading ${todo[*]} into Podman"
start=$SECONDS
docker save "${todo[@]}" | podman load -q >/dev/null
say "loaded in $((SECONDS - start))s"
