"""The facts of the SSH checks of one variant: build, run, log in, probe, stop and remove.

Gathered concurrently per variant (a :class:`~paddle_verify.facts.Kind` of the gatherer);
:class:`SshFacts` is what ``checks/test_ssh.py`` reads, and raises
:class:`~paddle_verify.facts.FactMissing` when the machine never ran.
"""

from __future__ import annotations

import concurrent.futures
from dataclasses import dataclass, field
from pathlib import Path

import docker.errors
import paramiko

from ..engine import EngineError, Session
from ..facts.missing import FactMissing
from ..manifest import Variant
from .image import SSH_DIR, build_ssh_image, history_secrets
from .machine import (
    SshMachine,
    exited,
    host_key,
    login,
    password_accepted,
    run_over_ssh,
    run_ssh_machine,
    stop_and_remove,
    wait_banner,
    writable_layer,
)

# Passwords a scanner tries first: the page's own, the user name, the usual suspects.
WELL_KNOWN = ("root", "toor", "password", "paddle", "paddlepaddle", "123456", "admin", "docker")


class SecurityFinding(UserWarning):
    """Something unsafe about the SSH image: a warning, or a failure with ``--release``."""


# --- gathering ----------------------------------------------------------------------


@dataclass
class SshFacts:
    """Everything the SSH checks assert on, for one variant (gathered concurrently)."""

    variant: str
    image: str | None = None
    error: str | None = None  # the image did not build, or the machine never answered
    running: SshMachine | None = None
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

    @property
    def built(self) -> str:
        """The SSH image's tag; a missing fact when it did not build."""
        if self.image is None:
            raise FactMissing(self.error or f"{self.variant}: the SSH image was not built")
        return self.image

    @property
    def machine(self) -> SshMachine:
        """The running ``paddle_ssh_machine``; a missing fact when it never answered."""
        if self.running is None:
            raise FactMissing(self.error or f"{self.variant}: no SSH machine")
        return self.running


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
        facts.running = machine
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
    try:
        with login(machine.host, machine.port, "root", password, timeout) as client:
            facts.over_ssh = run_over_ssh(client, variant.runtime.shell_line("version"), timeout)
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
