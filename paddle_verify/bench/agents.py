"""Benchmark agents: the same in-image script answering timed requests, in a container
(:class:`ExecAgent`, through a bounded exec) or on bare metal (:class:`ProcessAgent`, see
:mod:`.baremetal`).

An agent answers one JSON request per line (see ``inimage/agent.py``); the
workload is timed inside the agent, so neither process start-up nor the exec
nor the pipe is in the numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import subprocess
import time
from typing import Any, Protocol

from docker.models.containers import Container

from .. import inimage
from ..engine import EngineError, Session, cid, daemon_error, daemon_fault
from ..engine.execs import close_socket, frames

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The same environment on both sides: single-threaded math, a clean PATH."""
    env = {
        "PATH": CLEAN_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


class Agent(Protocol):
    where: str

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def close(self) -> None: ...


class AgentError(EngineError):
    pass


class _LineBuffer:
    def __init__(self) -> None:
        self.buf = b""

    def pop_line(self) -> bytes | None:
        if b"\n" not in self.buf:
            return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line


def _decode(where: str, line: bytes, req: dict[str, Any]) -> dict[str, Any]:
    try:
        reply: dict[str, Any] = json.loads(line)
    except ValueError:
        raise AgentError(f"{where}: agent answered {line[:200]!r} to {req['op']}") from None
    if "error" in reply:
        raise AgentError(f"{where}: {req.get('workload', req['op'])}: {reply['error']}")
    return reply


class ProcessAgent:
    """An agent in a local process (chroot or the host's Python), over pipes."""

    def __init__(self, argv: list[str], env: dict[str, str], where: str) -> None:
        self.where = where
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self._lines = _LineBuffer()

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(req).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AgentError(f"{self.where}: agent exited: {self._stderr()}") from None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while (line := self._lines.pop_line()) is None:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise AgentError(f"{self.where}: no answer to {req['op']} within {timeout:.0f}s")
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AgentError(f"{self.where}: agent exited: {self._stderr()}")
                self._lines.buf += chunk
        return _decode(self.where, line, req)

    def _stderr(self) -> str:
        with contextlib.suppress(Exception):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
            return err.decode("utf-8", "replace").strip()[-500:]
        return "(no output)"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class ExecAgent:
    """An agent in a running container, over one ``docker exec`` with stdin."""

    def __init__(self, session: Session, container: Container, argv: list[str], env: dict[str, str], where: str):
        self.where = where
        api = session.client.api
        try:
            exec_id = api.exec_create(cid(container), argv, stdin=True, stdout=True, stderr=True, environment=env)
            self.sock = api.exec_start(exec_id["Id"], socket=True)
        except Exception as exc:
            raise AgentError(f"{where}: cannot start the agent: {daemon_error(exc)}", fault=daemon_fault(exc)) from None
        self.raw: Any = getattr(self.sock, "_sock", self.sock)
        self._lines = _LineBuffer()
        self._err = b""

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            self.raw.sendall(json.dumps(req).encode() + b"\n")
        except OSError as exc:
            raise AgentError(f"{self.where}: agent gone: {exc}; {self._err[-300:]!r}") from None
        deadline = time.monotonic() + timeout
        incoming = frames(self.raw, deadline)
        while (line := self._lines.pop_line()) is None:
            try:
                stream, payload = next(incoming)
            except StopIteration:
                raise AgentError(f"{self.where}: agent exited: {self._err.decode(errors='replace')[-500:]}") from None
            except TimeoutError:
                raise AgentError(f"{self.where}: no answer to {req['op']} within {timeout:.0f}s") from None
            if stream == 1:
                self._lines.buf += payload
            else:
                self._err += payload
        return _decode(self.where, line, req)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.raw.sendall(b'{"op": "quit"}\n')
        close_socket(self.sock)


# --- bare metal ---------------------------------------------------------------


def start_container_agent(
    session: Session, container: Container, python: str, script_name: str, args: list[str], env: dict[str, str]
) -> ExecAgent:
    return ExecAgent(session, container, [python, "-c", inimage.source(script_name), *args], env, where="container")
