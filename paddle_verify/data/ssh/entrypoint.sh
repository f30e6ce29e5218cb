#!/bin/sh
# Host keys of this container, made now (each container gets its own), and the
# root password from the run argument, which is not left in the environment.
# Then the container's environment (the image's ENV, `docker run -e`), without the
# password, is handed to SSH sessions, which sshd starts afresh (see the Dockerfile).
set -e
ssh-keygen -A >/dev/null
if [ -n "${ROOT_PASSWORD:-}" ]; then
    echo "root:${ROOT_PASSWORD}" | chpasswd
fi
unset ROOT_PASSWORD

setenv=/etc/ssh/sshd_config.d/paddle_env.conf   # every session: `ssh HOST CMD` and logins
profile=/etc/profile.d/paddle_env.sh            # login shells, after /etc/profile resets PATH
mkdir -p /etc/profile.d
echo "# the container's environment, written by $0 when the container started" >"$profile"
pairs="" # one SetEnv line: sshd takes the first SetEnv of its configuration only
for name in $(env | sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | sort -u); do
    case "$name" in
        # what describes the session's user and terminal is the login's own
        HOME|USER|LOGNAME|SHELL|MAIL|PWD|OLDPWD|SHLVL|TERM|HOSTNAME|_) continue ;;
    esac
    eval "[ -n \"\${$name+set}\" ]" || continue # a line inside a multi-line value, not a variable
    eval "value=\${$name}"
    case "$value" in
        *'
'*) continue ;; # sshd_config cannot hold a newline
    esac
    quoted=$(printf '%s' "$value" | sed 's/[\\"]/\\&/g')         # for sshd_config: \ and " escaped
    pairs="$pairs \"$name=$quoted\""
    quoted=$(printf '%s' "$value" | sed "s/'/'\\\\''/g")         # for sh: in '', ' as '\''
    printf "export %s='%s'\n" "$name" "$quoted" >>"$profile"
done
{
    echo "# the container's environment, written by $0 when the container started"
    if [ -n "$pairs" ]; then printf 'SetEnv%s\n' "$pairs"; fi # (dash's echo would undo the escapes)
} >"$setenv"
exec "$@"
