"""The Docker engine: the connection (client), the labels and owner of what the suite makes
(labels), a session's containers and threads (session), the sweep of leftovers (sweep),
bounded execs (execs) and ``docker run -it`` through a TTY (tty)."""

from .client import (
    ENGINE_GONE,
    DaemonUnreachable,
    Engine,
    EngineError,
    connect,
    daemon_error,
    daemon_fault,
    daemon_url,
    default_engine,
    require_image,
    translated,
    unreachable,
)
from .execs import ExecResult, exec_bounded
from .labels import LABEL_RUN, LABEL_SESSION, LABEL_SUITE, SUITE
from .session import Session, cid, container_state
from .sweep import leftovers, sweep

__all__ = [
    "ENGINE_GONE",
    "LABEL_RUN",
    "LABEL_SESSION",
    "LABEL_SUITE",
    "SUITE",
    "DaemonUnreachable",
    "Engine",
    "EngineError",
    "ExecResult",
    "Session",
    "cid",
    "connect",
    "container_state",
    "daemon_error",
    "daemon_fault",
    "daemon_url",
    "default_engine",
    "exec_bounded",
    "leftovers",
    "require_image",
    "sweep",
    "translated",
    "unreachable",
]
