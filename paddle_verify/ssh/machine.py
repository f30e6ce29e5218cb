"""A running ``paddle_ssh_machine``: started the page's way, its banner awaited, logged into,
its host key read, stopped and removed as the page says."""

from __future__ import annotations

import hashlib
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker.errors
import paramiko
from docker.models.containers import Container

from ..engine import EngineError, Session, cid, container_state, daemon_error, daemon_fault

SEED_NAME = "paddle_ssh_machine"
SEED_PORT = 8022
# How an engine says that the port was taken between the look and the start: Docker's words, Podman's.
PORT_TAKEN = ("already allocated", "address already in use")


def port_free(host: str, port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


@dataclass
class SshMachine:
    """A running ``paddle_ssh_machine``: where it listens and how to log in."""

    container: Container
    name: str
    host: str
    port: int
    bind: str
    password: str
    banner: str = ""
    bindings: list[dict[str, str]] = field(default_factory=list)


def run_ssh_machine(
    session: Session,
    image: str,
    *,
    variant: str,
    password: str,
    bind: str = "127.0.0.1",
    port: int | None = None,
    seed_name: bool = True,
) -> SshMachine:
    """``docker run -d -p BIND:8022:22 --name paddle_ssh_machine IMAGE`` (a free port if 8022 is taken).

    The seed's name gets the session's id and the variant appended, so that two
    sessions never collide; further machines of a session get generated names.
    """
    if port is None:
        port = SEED_PORT if port_free(bind, SEED_PORT) else 0
    name = f"{SEED_NAME}_{session.id}_{variant}" if seed_name else session.name(variant, "ssh")
    while True:
        container = session.create_container(
            image,
            variant=variant,
            purpose="ssh",
            name=name,
            detach=True,
            environment={"ROOT_PASSWORD": password},
            ports={"22/tcp": (bind, port or None)},
        )
        try:
            session.start_container(container, variant=variant)
            break
        except EngineError as exc:
            # Another machine took 8022 between the look and the start: any free port will do.
            if port == 0 or not any(words in str(exc) for words in PORT_TAKEN):
                raise
            port = 0
    container.reload()
    bindings = container.attrs["NetworkSettings"]["Ports"].get("22/tcp") or []
    if not bindings:
        raise EngineError(f"{variant}: {name} publishes no port for 22/tcp")
    host = "127.0.0.1" if bind in ("0.0.0.0", "::", "") else bind
    return SshMachine(container, name, host, int(bindings[0]["HostPort"]), bind, password, bindings=bindings)


def wait_banner(host: str, port: int, deadline_s: float, gone: Callable[[], str | None] | None = None) -> str:
    """Read the server's first line until it is an ``SSH-2.0-`` banner, or the deadline passes.

    ``gone()`` says why the server can no longer answer (its container exited), to stop early.
    """
    deadline = time.monotonic() + deadline_s
    last = "no answer"
    delay = 0.02
    while time.monotonic() < deadline:
        why = gone() if gone else None
        if why:
            raise TimeoutError(f"no SSH-2.0 banner on {host}:{port}: {why}")
        try:
            with socket.create_connection((host, port), timeout=max(0.1, deadline - time.monotonic())) as s:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                line = s.recv(256).decode("ascii", "replace")
                if line.startswith("SSH-2.0-"):
                    return line.strip()
                last = f"answered {line.strip()[:80]!r}" if line else "closed the connection at once"
        except OSError as exc:
            last = str(exc)
        # the container is starting: back off briefly, bounded by the deadline
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 2, 0.3)
    raise TimeoutError(f"no SSH-2.0 banner on {host}:{port} within {deadline_s:.0f}s ({last})")


def login(host: str, port: int, user: str, password: str, timeout: float = 10) -> paramiko.SSHClient:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect(
        host,
        port=port,
        username=user,
        password=password,
        timeout=timeout,
        banner_timeout=timeout,
        auth_timeout=timeout,
        allow_agent=False,
        look_for_keys=False,
    )
    return client


def password_accepted(host: str, port: int, user: str, password: str, timeout: float = 10) -> bool:
    try:
        login(host, port, user, password, timeout).close()
    except paramiko.AuthenticationException:
        return False
    return True


def run_over_ssh(client: paramiko.SSHClient, command: str, timeout: float) -> tuple[int, str, str]:
    _, stdout, stderr = client.exec_command(command, timeout=timeout)
    out = stdout.read().decode("utf-8", "replace")
    err = stderr.read().decode("utf-8", "replace")
    return stdout.channel.recv_exit_status(), out, err


def host_key(host: str, port: int, timeout: float = 10) -> str:
    """The server's host key fingerprint (SHA-256), from a key exchange without login.

    sshd drops some new connections while others are still unauthenticated
    (MaxStartups): a dropped exchange is tried again until the deadline.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            return _host_key_once(host, port, max(1.0, deadline - time.monotonic()))
        except (paramiko.SSHException, EOFError, OSError):
            if time.monotonic() + 0.2 > deadline:
                raise
            time.sleep(0.2)  # bounded by the deadline above


def _host_key_once(host: str, port: int, timeout: float) -> str:
    sock = socket.create_connection((host, port), timeout=timeout)
    transport = paramiko.Transport(sock)
    try:
        transport.banner_timeout = timeout
        transport.start_client(timeout=timeout)
        key = transport.get_remote_server_key()
        return f"{key.get_name()} {hashlib.sha256(key.asbytes()).hexdigest()}"
    finally:
        transport.close()
        sock.close()


def exited(container: Container) -> Callable[[], str | None]:
    """For :func:`wait_banner`: why the container cannot answer any more, if it stopped."""

    def why() -> str | None:
        state = container_state(container)
        if state["status"] == "removed":
            return "the container was removed (the session is ending)"
        if state["status"] in ("exited", "dead"):
            logs = state["logs"].strip().replace("\n", " | ")[-300:]
            return f"the container exited with code {state['exit_code']}; last log lines: {logs or '(none)'}"
        return None

    return why


def writable_layer(container: Container) -> str | None:
    """The container's writable layer on the engine's disk (overlay2), if the engine says."""
    data: dict[str, Any] = (container.attrs.get("GraphDriver") or {}).get("Data") or {}
    upper = data.get("UpperDir")
    return str(Path(upper).parent) if upper else None


def stop_and_remove(session: Session, machine: SshMachine, *, timeout: int = 10) -> None:
    """``docker stop`` then ``docker rm`` (with its volumes), as the page says."""
    try:
        machine.container.stop(timeout=timeout)
        machine.container.remove(v=True)
    except docker.errors.APIError as exc:
        raise EngineError(f"{machine.name}: stop/rm failed: {daemon_error(exc)}", fault=daemon_fault(exc)) from None
    session.forget(cid(machine.container))
