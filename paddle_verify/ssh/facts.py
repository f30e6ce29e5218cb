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

from ..engine import ENGINE_GONE, EngineError, Session, translated
from ..exits import Fault
from ..facts import secrets
from ..facts.missing import FactMissing, met
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
# The two kinds of SSH session a user opens, and the command that prints each one's environment.
SESSIONS = {
    "`ssh HOST CMD`": "env -0",
    "a login shell (`ssh HOST`)": 'exec "${SHELL:-/bin/sh}" -l -c "env -0"',
}
# What a login sets for its own user and terminal (the SSH image's entrypoint leaves them too).
LOGIN_OWN = frozenset({"HOME", "USER", "LOGNAME", "SHELL", "MAIL", "PWD", "OLDPWD", "SHLVL", "TERM", "HOSTNAME", "_"})


class SecurityFinding(UserWarning):
    """Something unsafe about the SSH image: a warning, or a failure with ``--release``."""


# --- gathering ----------------------------------------------------------------------


@dataclass
class SshFacts:
    """Everything the SSH checks assert on, for one variant (gathered concurrently)."""

    variant: str
    image: str | None = None
    error: str | None = None  # the image did not build, or the machine never answered
    error_fault: Fault | None = None  # whose ``error`` is, where its raiser said (the lost engine: the host's)
    error_cause: str | None = None  # the cause it shares (the lost engine's line), where its raiser said
    running: SshMachine | None = None
    login_error: str | None = None
    over_ssh: tuple[int, str, str] | None = None
    session_env: dict[str, dict[str, str] | str] = field(default_factory=dict)  # by SESSIONS kind; str: error
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
            why = self.error or f"{self.variant}: the SSH image was not built"
            raise FactMissing(why, cause=self.error_cause, fault=self.error_fault)
        return self.image

    @property
    def machine(self) -> SshMachine:
        """The running ``paddle_ssh_machine``; a missing fact when it never answered."""
        if self.running is None:
            why = self.error or f"{self.variant}: no SSH machine"
            raise FactMissing(why, cause=self.error_cause, fault=self.error_fault)
        return self.running

    @property
    def version_over_ssh(self) -> tuple[int, str, str]:
        """``paddle version`` run over root's login; a missing fact when root could not log in."""
        return self._logged_in()

    @property
    def login_env(self) -> dict[str, dict[str, str] | str]:
        """The environment of each kind of SSH session (:data:`SESSIONS`), or why it was not read."""
        self._logged_in()
        return self.session_env

    def _logged_in(self) -> tuple[int, str, str]:
        machine = self.machine
        if self.over_ssh is None:  # one cause for every check that needs the login
            raise FactMissing(f"{self.variant}: root could not log in to {machine.name}: {self.login_error}")
        return self.over_ssh


def parse_env0(out: str) -> dict[str, str]:
    """``env -0``'s output; what a profile printed before it is not a variable."""
    env = {}
    for item in out.split("\0"):
        name, sep, value = item.partition("=")
        name = name.rsplit("\n", 1)[-1]
        if sep and name.isidentifier():
            env[name] = value
    return env


def env_differences(image_env: dict[str, str], sessions: dict[str, dict[str, str] | str]) -> list[str]:
    """Each variable of the image's ENV (but a login's own) that an SSH session lost or changed, with
    its values (a secret's hidden); and each session whose environment could not be read."""
    found = [f"the environment of {kind} was not read: {env}" for kind, env in sessions.items() if isinstance(env, str)]
    read = {kind: env for kind, env in sessions.items() if isinstance(env, dict)}
    for name, value in image_env.items():
        differ = {kind: env.get(name) for kind, env in read.items() if env.get(name) != value}
        if name in LOGIN_OWN or not differ:
            continue
        how = "lost" if all(v is None for v in differ.values()) else "changed"
        where = ", ".join(f"{'unset' if v is None else _shown(name, v)} in {kind}" for kind, v in differ.items())
        found.append(f"{name} {how}: {_shown(name, value)} through docker exec, {where}")
    return found


def _shown(name: str, value: str) -> str:
    return repr(secrets.HIDDEN if secrets.is_secret(name, value) else value)


def gather(
    session: Session,
    variant: Variant,
    *,
    password: str,
    bind: str,
    timeout: float,
    context: Path = SSH_DIR,
) -> SshFacts:
    """Build, run, log in, probe, stop and remove: the facts of the SSH checks of one variant.
    A lost engine at any step is the facts' ``error`` (the host's), never docker-py's own error."""
    try:
        return _gather(session, variant, password=password, bind=bind, timeout=timeout, context=context)
    except ENGINE_GONE as exc:
        lost = translated(exc, session.url, variant=variant.name)
        return SshFacts(variant.name, error=str(lost), error_fault=lost.fault, error_cause=lost.line)


def _gather(session: Session, variant: Variant, *, password: str, bind: str, timeout: float, context: Path) -> SshFacts:
    facts = SshFacts(variant.name)
    try:
        facts.image = build_ssh_image(session, variant.image, variant=variant.name, dockerfile_dir=context)
        facts.history = history_secrets(session.client, facts.image)
        machine = run_ssh_machine(session, facts.image, variant=variant.name, password=password, bind=bind)
        machine.banner = wait_banner(machine.host, machine.port, timeout, exited(machine.container))
        facts.running = machine
    except (EngineError, TimeoutError) as exc:
        facts.error = str(exc) if str(exc).startswith(f"{variant.name}:") else f"{variant.name}: {exc}"
        whose = met(exc)  # typed where it arose: a lost engine (its line), a full disk
        facts.error_fault, facts.error_cause = whose.fault, whose.cause
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
            for kind, command in SESSIONS.items():
                rc, out, err = run_over_ssh(client, command, timeout)
                facts.session_env[kind] = parse_env0(out) if rc == 0 else f"`{command}` exited with {rc}: {err[-200:]}"
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
