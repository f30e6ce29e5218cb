#!/usr/bin/env bash
# Build a reference image, or leave it be when nothing it is built from has changed:
#   images/build.sh IMAGE DOCKERFILE CONTEXT [ARG=VALUE ...]   (ARG=VALUE: build arguments)
# The engine's builder here is the legacy one (no buildx): it sends the whole context to
# the engine on every build, even when every layer is cached, which takes ~18 s for the
# GPU runtime's 2.4 GB of wheels. So each image carries a label, org.paddle-verify.build-key:
# a hash of the image's name, the build arguments, the Dockerfile (less its comments),
# the context's files (names and sizes; the contents of those under 64 KiB, such as
# requirements.txt, but not of the wheels, whose names carry their versions) and the IDs
# of the images the arguments name (BASE, RUNTIME, DEVEL: a rebuilt parent rebuilds its
# children). A build runs only when the image is missing or its key differs; the engine's
# layer cache keeps it incremental.
set -euo pipefail

[ $# -ge 3 ] || { echo "usage: $0 IMAGE DOCKERFILE CONTEXT [ARG=VALUE ...]" >&2; exit 2; }
image=$1 dockerfile=$2 context=$3
shift 3
KEY_LABEL=org.paddle-verify.build-key

build_args=()
for arg in "$@"; do build_args+=(--build-arg "$arg"); done

key=$(
    {
        printf '%s\n' "$image" "$@"
        grep -v '^[[:space:]]*#' "$dockerfile" | sha256sum
        (cd "$context" && find . -type f -printf '%P %s\n' | LC_ALL=C sort \
            && find . -type f -size -64k -print0 | LC_ALL=C sort -z | xargs -0r sha256sum)
        for arg in "$@"; do
            docker image inspect -f '{{.Id}}' "${arg#*=}" 2>/dev/null || true
        done
    } | sha256sum | cut -c1-20
)

have=$(docker image inspect -f "{{index .Config.Labels \"$KEY_LABEL\"}}" "$image" 2>/dev/null || true)
if [ "$have" = "$key" ]; then
    printf '%s: up to date (%s=%s)\n' "$image" "$KEY_LABEL" "$key"
    exit 0
fi
# --force-rm: a step that fails leaves no stopped container behind (the legacy builder keeps it).
exec docker build -q --force-rm "${build_args[@]}" --label "$KEY_LABEL=$key" -t "$image" -f "$dockerfile" "$context"
