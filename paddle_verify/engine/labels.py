"""The labels on everything the suite creates, and who owns it (a process that may be gone).

A session's resources carry the suite's label, the session's id and an owner token
(host, pid, process start time): a sweep can then tell a dead session's leftovers
from a live one's, even when a pid has been reused.
"""

from __future__ import annotations

import os
import socket

LABEL_SUITE = "org.paddle-verify.suite"
LABEL_SESSION = "org.paddle-verify.session"
LABEL_OWNER = "org.paddle-verify.owner"
LABEL_VARIANT = "org.paddle-verify.variant"
LABEL_ROLE = "org.paddle-verify.purpose"
LABEL_RUN = "org.paddle-verify.run"
SUITE = "paddle-verify"


def _process_start(pid: int) -> str:
    """The start time of a process (to tell a live owner from a reused pid)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "?"


def owner_token(pid: int | None = None) -> str:
    pid = os.getpid() if pid is None else pid
    return f"{socket.gethostname()}:{pid}:{_process_start(pid)}"


def owner_alive(token: str) -> bool:
    """Whether the process that wrote ``token`` still runs (unknown hosts count as alive)."""
    try:
        host, pid_s, start = token.rsplit(":", 2)
        pid = int(pid_s)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return _process_start(pid) == start
