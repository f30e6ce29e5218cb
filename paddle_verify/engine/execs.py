"""Commands run in a container with a deadline (docker-py's ``exec_run`` has none).

Owns: :func:`exec_bounded` and the hijacked socket it reads, which it always closes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import struct
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import docker


@dataclass
class ExecResult:
    argv: Sequence[str]
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


def exec_bounded(
    client: docker.DockerClient,
    container_id: str,
    argv: Sequence[str],
    *,
    timeout: float,
    env: Mapping[str, str] | None = None,
) -> ExecResult:
    """``docker exec`` with a deadline (docker-py's exec_run has none).

    Reads the multiplexed stream until EOF or the deadline; past the deadline
    the exec'd process is killed and ``timed_out`` is set.
    """
    api = client.api
    start = time.monotonic()
    deadline = start + timeout
    exec_id = api.exec_create(container_id, list(argv), environment=dict(env or {}), stdout=True, stderr=True)["Id"]
    sock = api.exec_start(exec_id, socket=True)
    raw = getattr(sock, "_sock", sock)
    chunks: dict[int, list[bytes]] = {1: [], 2: []}
    timed_out = False
    try:
        for stream, payload in frames(raw, deadline):
            chunks.setdefault(stream, []).append(payload)
    except TimeoutError:
        timed_out = True
        _kill_exec(api, exec_id)
    finally:
        close_socket(sock)
    rc = None
    if not timed_out:
        rc = _exit_code(api, exec_id, deadline=time.monotonic() + 5)
    return ExecResult(
        argv=list(argv),
        rc=rc,
        stdout=b"".join(chunks[1]).decode("utf-8", "replace"),
        stderr=b"".join(chunks[2]).decode("utf-8", "replace"),
        seconds=time.monotonic() - start,
        timed_out=timed_out,
    )


def close_socket(sock: Any) -> None:
    """Close a hijacked docker-py socket and the socket under it."""
    for s in (sock, getattr(sock, "_sock", None)):
        if s is not None:
            with contextlib.suppress(OSError):
                s.close()


def _recv_exact(raw: Any, n: int, deadline: float) -> bytes:
    buf = b""
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        raw.settimeout(left)
        try:
            part = raw.recv(n - len(buf))
        except TimeoutError:
            raise TimeoutError from None
        if not part:
            return buf
        buf += part
    return buf


def frames(raw: Any, deadline: float) -> Iterator[tuple[int, bytes]]:
    while True:
        header = _recv_exact(raw, 8, deadline)
        if len(header) < 8:
            return
        stream, size = header[0], struct.unpack(">I", header[4:8])[0]
        payload = _recv_exact(raw, size, deadline)
        yield stream, payload
        if len(payload) < size:
            return


def _exit_code(api: Any, exec_id: str, deadline: float) -> int | None:
    while True:
        info = api.exec_inspect(exec_id)
        if not info.get("Running") or time.monotonic() > deadline:
            code = info.get("ExitCode")
            return int(code) if code is not None else None
        time.sleep(0.02)  # the stream has ended; the daemon records the code a moment later


def _kill_exec(api: Any, exec_id: str) -> None:
    with contextlib.suppress(Exception):
        pid = int(api.exec_inspect(exec_id).get("Pid") or 0)
        # The exec's pid is this machine's only when the engine is reached by a unix socket
        # (docker-py's base URL for one); a tcp:// or ssh:// engine's pid is another host's.
        if pid > 0 and str(getattr(api, "base_url", "")) == "http+docker://localhost":
            os.kill(pid, signal.SIGKILL)
