"""The install page's SSH image: build it, run it the page's way, log in, find what is unsafe.

The image is built from ``images/ssh`` on top of a variant's image and reused
while neither changes (its tag carries both hashes). Containers are labelled and
removed like every other; the password is random per session unless given.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import re
import socket
import tarfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
import paramiko
from docker.models.containers import Container

from .engine import LABEL_SUITE, SUITE, EngineError, Session, cid, container_state, daemon_error, require_image
from .manifest import Variant

SSH_DIR = Path(__file__).resolve().parent.parent / "images" / "ssh"
SEED_NAME = "paddle_ssh_machine"
SEED_PORT = 8022
# Passwords a scanner tries first: the page's own, the user name, the usual suspects.
WELL_KNOWN = ("root", "toor", "password", "paddle", "paddlepaddle", "123456", "admin", "docker")
# NAME=value with a value (not empty, not a $reference), or a literal `root:...` fed to chpasswd.
SECRET_IN_HISTORY = re.compile(r"(?i)\b\w*(?:password|passwd|secret|token)\w*=(?![\s$]|$)\S+|\broot:(?!\$)[^\s|;&'\"]+")


class SecurityFinding(UserWarning):
    """Something unsafe about the SSH image: a warning, or a failure with ``--release``."""


def context_files(dockerfile_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(dockerfile_dir.iterdir()) if p.is_file()}


def build_ssh_image(
    session: Session,
    base: str,
    *,
    variant: str,
    dockerfile_dir: Path = SSH_DIR,
    buildargs: dict[str, str] | None = None,
    timeout: float = 600,
) -> str:
    """The SSH image for ``base``; built when absent, reused when the base and Dockerfile are unchanged."""
    client = session.client
    base_id = require_image(client, base, variant=variant)
    files = context_files(dockerfile_dir)
    digest = hashlib.sha256(base_id.encode() + repr(sorted(files.items())).encode() + repr(buildargs).encode())
    tag = f"paddle-verify/ssh:{variant}-{digest.hexdigest()[:12]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            buildargs={"BASE": base, **(buildargs or {})},
            labels={LABEL_SUITE: SUITE, "org.paddle-verify.ssh-base": base},
            timeout=int(timeout),
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(c.get("stream", "")) for c in exc.build_log)[-800:]
        raise EngineError(f"{variant}: the SSH image does not build on {base}: {exc}\n{log}") from None
    except docker.errors.APIError as exc:
        raise EngineError(f"{variant}: the SSH image does not build on {base}: {daemon_error(exc)}") from None
    return tag


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
            if port == 0 or "already allocated" not in str(exc):
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


def history_secrets(client: docker.DockerClient, image: str) -> list[str]:
    """Lines of ``docker history`` that show a credential."""
    found = []
    for layer in client.images.get(image).history():
        created_by = str(layer.get("CreatedBy", ""))
        if SECRET_IN_HISTORY.search(created_by):
            found.append(created_by.strip()[:160])
    return found


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
        raise EngineError(f"{machine.name}: stop/rm failed: {daemon_error(exc)}") from None
    session.forget(cid(machine.container))


# --- gathering ----------------------------------------------------------------------


@dataclass
class SshFacts:
    """Everything the SSH checks assert on, for one variant (gathered concurrently)."""

    variant: str
    image: str | None = None
    error: str | None = None  # the image did not build, or the machine never answered
    machine: SshMachine | None = None
    login_error: str | None = None
    over_ssh: tuple[int, str, str] | None = None
    root_password_accepted: bool | None = None
    guessed: list[str] = field(default_factory=list)
    host_keys: tuple[str, str] | None = None
    host_key_error: str | None = None
    history: list[str] = field(default_factory=list)
    removed: bool | None = None
    layer: str | None = None
    layer_left: bool | None = None
    lifecycle_error: str | None = None

    def need(self) -> SshMachine:
        if self.machine is None:
            raise AssertionError(self.error or f"{self.variant}: no SSH machine")
        return self.machine


def gather(
    session: Session,
    variant: Variant,
    *,
    password: str,
    bind: str,
    timeout: float,
    context: Path = SSH_DIR,
) -> SshFacts:
    """Build, run, log in, probe, stop and remove: the facts of the SSH checks of one variant."""
    facts = SshFacts(variant.name)
    try:
        facts.image = build_ssh_image(session, variant.image, variant=variant.name, dockerfile_dir=context)
        facts.history = history_secrets(session.client, facts.image)
        machine = run_ssh_machine(session, facts.image, variant=variant.name, password=password, bind=bind)
        machine.banner = wait_banner(machine.host, machine.port, timeout, exited(machine.container))
        facts.machine = machine
    except (EngineError, TimeoutError) as exc:
        facts.error = str(exc) if str(exc).startswith(f"{variant.name}:") else f"{variant.name}: {exc}"
        return facts
    # A second machine, for the host keys and the page's `docker stop` + `docker rm`.
    second: SshMachine | None = None
    try:
        second = run_ssh_machine(session, facts.image, variant=variant.name, password=password, port=0, seed_name=False)
        wait_banner(second.host, second.port, timeout, exited(second.container))
        facts.host_keys = (host_key(machine.host, machine.port), host_key(second.host, second.port))
    except (EngineError, TimeoutError, paramiko.SSHException, OSError) as exc:
        facts.host_key_error = f"{variant.name}: {exc}"
    env = " ".join(f"{k}={v}" for k, v in variant.runtime.env.items())
    try:
        with login(machine.host, machine.port, "root", password, timeout) as client:
            facts.over_ssh = run_over_ssh(client, f"{env} {variant.runtime.launcher} version", timeout)
        facts.root_password_accepted = True
    except paramiko.AuthenticationException as exc:
        facts.login_error = f"ssh -p {machine.port} root@{machine.host}: {exc}"
        facts.root_password_accepted = False
    except (paramiko.SSHException, OSError) as exc:
        facts.login_error = f"ssh -p {machine.port} root@{machine.host}: {exc}"
    # Failed logins are slowed by PAM (~2 s each): try the well-known passwords side by side.
    with concurrent.futures.ThreadPoolExecutor(len(WELL_KNOWN)) as pool:
        tries = list(pool.map(lambda pw: _accepts(machine, pw, timeout), WELL_KNOWN))
    facts.guessed = [pw for pw, ok in zip(WELL_KNOWN, tries, strict=True) if ok]
    if second is not None:
        try:
            second.container.reload()
            facts.layer = writable_layer(second.container)
            stop_and_remove(session, second)
            try:
                session.client.containers.get(second.name)
                facts.removed = False
            except docker.errors.NotFound:
                facts.removed = True
            if facts.layer is not None and Path(facts.layer).parent.is_dir():
                facts.layer_left = Path(facts.layer).exists()
        except EngineError as exc:
            facts.lifecycle_error = str(exc)
    return facts


def _accepts(machine: SshMachine, password: str, timeout: float) -> bool:
    try:
        return password_accepted(machine.host, machine.port, "root", password, timeout)
    except (paramiko.SSHException, OSError):
        return False
