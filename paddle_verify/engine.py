"""The Docker engine: connection, labels, containers that never leak, bounded execs.

Everything the suite creates carries :data:`LABEL_SUITE` and the session's
:data:`LABEL_SESSION`, is registered for removal right after it is created, and
is removed with its volumes when the session ends. A session started later
sweeps what dead sessions left behind (their owner process is gone).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container

LABEL_SUITE = "org.paddle-verify.suite"
LABEL_SESSION = "org.paddle-verify.session"
LABEL_OWNER = "org.paddle-verify.owner"
LABEL_VARIANT = "org.paddle-verify.variant"
LABEL_ROLE = "org.paddle-verify.purpose"
LABEL_RUN = "org.paddle-verify.run"
SUITE = "paddle-verify"


class EngineError(RuntimeError):
    """A problem with the engine or a resource, worded for the report."""


class DaemonUnreachable(EngineError):
    pass


def daemon_url() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: float = 10.0) -> docker.DockerClient:
    """A client whose daemon answered a ping, or :class:`DaemonUnreachable`."""
    url = daemon_url()
    try:
        client = docker.DockerClient(base_url=url, version="auto", timeout=int(timeout))
        client.ping()
    except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
        raise DaemonUnreachable(f"Docker daemon unreachable at {url}: {_reason(exc)}") from None
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    for hint in ("No such file or directory", "Connection refused", "Permission denied", "timed out"):
        if hint in text:
            return hint
    return text.splitlines()[0][:200]


def daemon_error(exc: BaseException) -> str:
    """The daemon's own message in a docker-py error, without the HTTP noise."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation.decode() if isinstance(explanation, bytes) else explanation)
    return str(exc)


# --- owners and sessions -----------------------------------------------------


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


@dataclass
class ExecResult:
    argv: Sequence[str]
    rc: int | None
    stdout: str
    stderr: str
    seconds: float
    timed_out: bool = False


@dataclass
class Session:
    """One run of the suite against one engine: its labels and everything it made."""

    client: docker.DockerClient
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    owner: str = field(default_factory=owner_token)
    run_label: str | None = None  # --run-label: e.g. the CI job, to find a run's resources
    closed: bool = False
    _cleanup: list[tuple[str, str, Callable[[], None]]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def labels(self, variant: str | None = None, purpose: str = "check") -> dict[str, str]:
        labels = {
            LABEL_SUITE: SUITE,
            LABEL_SESSION: self.id,
            LABEL_OWNER: self.owner,
            LABEL_ROLE: purpose,
        }
        if variant:
            labels[LABEL_VARIANT] = variant
        if self.run_label:
            labels[LABEL_RUN] = self.run_label
        return labels

    def name(self, variant: str, purpose: str) -> str:
        return f"paddle-verify-{self.id}-{variant}-{purpose}-{uuid.uuid4().hex[:4]}"

    # resources -------------------------------------------------------------

    def on_cleanup(self, kind: str, ident: str, fn: Callable[[], None]) -> None:
        with self._lock:
            self._cleanup.append((kind, ident, fn))

    def forget(self, ident: str) -> None:
        with self._lock:
            self._cleanup = [c for c in self._cleanup if c[1] != ident]

    def create_container(
        self, image: str, *, variant: str, purpose: str, name: str | None = None, **kwargs: Any
    ) -> Container:
        """Create (not start) a labelled container and register its removal at once."""
        labels = {**kwargs.pop("labels", {}), **self.labels(variant, purpose)}
        try:
            container = self.client.containers.create(
                image, name=name or self.name(variant, purpose), labels=labels, **kwargs
            )
        except docker.errors.ImageNotFound:
            raise image_missing(variant, image) from None
        except docker.errors.APIError as exc:
            raise EngineError(f"{variant}: cannot create a container of {image}: {daemon_error(exc)}") from None
        except (requests.exceptions.RequestException, OSError) as exc:
            raise EngineError(f"{variant}: {unreachable(exc)}") from None
        with self._lock:
            late = self.closed
            if not late:
                self._cleanup.append(("container", cid(container), lambda: remove_container(container)))
        if late:  # the session ended (Ctrl-C, SIGTERM) while this create was on its way
            remove_container(container)
            raise EngineError(f"{variant}: the session was closed")
        return container

    def start_container(self, container: Container, *, variant: str) -> None:
        """Start a created container; on failure remove it and name the daemon's reason."""
        try:
            container.start()
        except docker.errors.APIError as exc:
            self.remove(cid(container))
            raise EngineError(f"{variant}: container did not start: {daemon_error(exc)}") from None
        except (requests.exceptions.RequestException, OSError) as exc:
            self.remove(cid(container))
            raise EngineError(f"{variant}: {unreachable(exc)}") from None

    def remove(self, ident: str) -> None:
        with self._lock:
            found = [c for c in self._cleanup if c[1] == ident]
            self._cleanup = [c for c in self._cleanup if c[1] != ident]
        for _kind, _ident, fn in found:
            fn()

    def close(self) -> int:
        """Remove everything this session made, newest first; returns how many.

        Idempotent. Ctrl-C and SIGTERM wait while it runs (in the main thread),
        so that a second signal cannot cut the cleanup short.
        """
        with _signals_held():
            with self._lock:
                self.closed = True
                todo, self._cleanup = list(reversed(self._cleanup)), []
            for _kind, _ident, fn in todo:
                with contextlib.suppress(Exception):
                    fn()
            # Belt and braces: anything carrying our label that escaped registration.
            try:
                return len(todo) + sweep(self.client, session=self.id)
            except (requests.exceptions.RequestException, OSError, docker.errors.DockerException):
                return len(todo)  # the engine is gone: nothing more to remove now

    # leftovers ----------------------------------------------------------------

    def sweep_dead(self) -> int:
        """Remove the leftovers of sessions whose owner process is gone."""
        return sweep(self.client, dead_only=True)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def image_missing(variant: str, image: str) -> EngineError:
    return EngineError(f"{variant}: image {image} is not present (the suite pulls only with --pull)")


def require_image(client: docker.DockerClient, image: str, *, variant: str) -> str:
    """The image's ID, or the one error every part of the suite gives for a missing image."""
    try:
        return str(client.images.get(image).id or image)
    except docker.errors.ImageNotFound:
        raise image_missing(variant, image) from None


def unreachable(exc: BaseException) -> str:
    """What a lost connection to the daemon is, in one line."""
    return f"Docker daemon unreachable at {daemon_url()}: {_reason(exc)}"


def cid(container: Container) -> str:
    """A container's id (docker-py types it as optional; a created one has one)."""
    assert container.id, "container without an id"
    return str(container.id)


def remove_container(container: Container) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True, v=True)


def sweep(client: docker.DockerClient, *, session: str | None = None, dead_only: bool = False) -> int:
    """Remove the suite's containers, networks and volumes (of one session, or of dead ones)."""
    selector = f"{LABEL_SESSION}={session}" if session else f"{LABEL_SUITE}={SUITE}"
    removed = 0

    def doomed(labels: Mapping[str, str]) -> bool:
        return not dead_only or not owner_alive(labels.get(LABEL_OWNER, ""))

    # The low-level list: the high-level one inspects each container, and one that
    # another session removes in between would make it fail.
    with contextlib.suppress(docker.errors.APIError):
        for c in client.api.containers(all=True, filters={"label": selector}):
            if doomed(c.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound):
                    client.api.remove_container(c["Id"], force=True, v=True)
                    removed += 1
    with contextlib.suppress(docker.errors.APIError):
        for n in client.networks.list(filters={"label": selector}):
            if doomed(n.attrs.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    n.remove()
                    removed += 1
    with contextlib.suppress(docker.errors.APIError):
        for v in client.volumes.list(filters={"label": selector}):
            if doomed(v.attrs.get("Labels") or {}):
                with contextlib.suppress(docker.errors.NotFound, docker.errors.APIError):
                    v.remove(force=True)
                    removed += 1
    return removed


def leftovers(client: docker.DockerClient, session: str | None = None, *, run: str | None = None) -> list[str]:
    """Names of the suite's resources still on the engine: of a session, a run label, or all."""
    selector = f"{LABEL_RUN}={run}" if run else f"{LABEL_SESSION}={session}" if session else f"{LABEL_SUITE}={SUITE}"
    names = [
        f"container {c['Names'][0].lstrip('/')}" for c in client.api.containers(all=True, filters={"label": selector})
    ]
    names += [f"network {n.name}" for n in client.networks.list(filters={"label": selector})]
    names += [f"volume {v.name}" for v in client.volumes.list(filters={"label": selector})]
    return names


# --- bounded exec ------------------------------------------------------------


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
        for stream, payload in _frames(raw, deadline):
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


def _frames(raw: Any, deadline: float) -> Iterator[tuple[int, bytes]]:
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
        if pid > 0 and daemon_url().startswith("unix://"):
            os.kill(pid, signal.SIGKILL)


def container_state(container: Container) -> dict[str, Any]:
    """Status, exit code, OOM flag and last log lines of a container ("removed" when it is gone)."""
    try:
        container.reload()
    except docker.errors.NotFound:
        return {"status": "removed", "exit_code": None, "oom_killed": None, "error": None, "logs": ""}
    except docker.errors.APIError:
        pass
    state = container.attrs.get("State", {})
    logs = ""
    with contextlib.suppress(docker.errors.APIError):
        logs = container.logs(tail=10).decode("utf-8", "replace")
    return {
        "status": state.get("Status"),
        "exit_code": state.get("ExitCode"),
        "oom_killed": state.get("OOMKilled"),
        "error": state.get("Error"),
        "logs": logs,
    }
