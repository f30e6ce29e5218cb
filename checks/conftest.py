"""Fixtures of the SSH checks: the SSH image, the running paddle_ssh_machine, findings."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable

import pytest

from paddle_verify.engine import EngineError, Session
from paddle_verify.manifest import Variant
from paddle_verify.ssh import SecurityFinding, SshMachine, build_ssh_image, run_ssh_machine, wait_banner


@pytest.fixture(scope="session")
def ssh_password(pytestconfig: pytest.Config) -> str:
    """The root password the SSH containers get at run time: random per session unless given."""
    given: str | None = pytestconfig.getoption("--ssh-password")
    return given if given else secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def ssh_images(docker_session: Session) -> Callable[[Variant], str]:
    """``ssh_images(variant)``: the SSH image built on the variant's image (built once, then reused)."""
    built: dict[str, str] = {}

    def get(variant: Variant) -> str:
        if variant.name not in built:
            try:
                built[variant.name] = build_ssh_image(docker_session, variant.image, variant=variant.name)
            except EngineError as exc:
                built[variant.name] = f"ERROR {exc}"
        tag = built[variant.name]
        if tag.startswith("ERROR "):
            pytest.fail(tag[6:])
        return tag

    return get


@pytest.fixture(scope="session")
def ssh_machines(
    docker_session: Session, ssh_images: Callable[[Variant], str], ssh_password: str, pytestconfig: pytest.Config
) -> Callable[[Variant], SshMachine]:
    """``ssh_machines(variant)``: a running paddle_ssh_machine whose sshd answered (one per variant)."""
    machines: dict[str, SshMachine | str] = {}

    def get(variant: Variant) -> SshMachine:
        if variant.name not in machines:
            image = ssh_images(variant)
            try:
                machine = run_ssh_machine(
                    docker_session, image, variant=variant.name, password=ssh_password,
                    bind=pytestconfig.getoption("--ssh-bind"),
                )  # fmt: skip
                machine.banner = wait_banner(machine.host, machine.port, pytestconfig.getoption("--exec-timeout"))
                machines[variant.name] = machine
            except (EngineError, TimeoutError) as exc:
                machines[variant.name] = f"{variant.name}: {exc}"
        got = machines[variant.name]
        if isinstance(got, str):
            pytest.fail(got)
        return got

    return get


@pytest.fixture
def finding(pytestconfig: pytest.Config) -> Callable[[bool, str], None]:
    """``finding(safe, message)``: nothing when safe; else a warning, or a failure with --release."""
    release = bool(pytestconfig.getoption("--release"))

    def report(safe: bool, message: str) -> None:
        if safe:
            return
        if release:
            pytest.fail(f"security finding (--release): {message}")
        warnings.warn(SecurityFinding(message), stacklevel=2)

    return report
