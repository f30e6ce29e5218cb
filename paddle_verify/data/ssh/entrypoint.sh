#!/bin/sh
# Host keys of this container, made now (each container gets its own), and the
# root password from the run argument, which is not left in the environment.
set -e
ssh-keygen -A >/dev/null
if [ -n "${ROOT_PASSWORD:-}" ]; then
    echo "root:${ROOT_PASSWORD}" | chpasswd
fi
unset ROOT_PASSWORD
exec "$@"
