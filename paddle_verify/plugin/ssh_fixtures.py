"""Fixtures of the SSH checks: the root password, each variant's SSH facts, security findings."""

from __future__ import annotations

import secrets
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

from .. import ssh
from ..facts import Kind
from ..manifest import Variant
from .fleet import Fleet
from .run import run_of


@pytest.fixture(scope="session")
def ssh_password(pytestconfig: pytest.Config) -> str:
    """The root password the SSH containers get at run time: random per session unless given."""
    given: str | None = pytestconfig.getoption("--ssh-password")
    return given if given else secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def ssh_kind(columns: Fleet, ssh_password: str, pytestconfig: pytest.Config) -> Kind[ssh.SshFacts]:
    given = pytestconfig.getoption("--ssh-context")
    context = Path(pytestconfig.invocation_params.dir, given) if given else ssh.SSH_DIR
    bind, timeout = pytestconfig.getoption("--ssh-bind"), pytestconfig.getoption("--exec-timeout")
    return Kind(
        "ssh",
        lambda v: ssh.gather(
            columns.of(v).session, v, password=ssh_password, bind=bind, timeout=timeout, context=context
        ),
    )


@pytest.fixture(scope="session")
def ssh_facts(columns: Fleet, ssh_kind: Kind[ssh.SshFacts]) -> Callable[[Variant], ssh.SshFacts]:
    """``ssh_facts(variant)``: build, run, log in, probe, stop and remove (once per variant and engine)."""
    return lambda variant: columns.of(variant).gatherer.get(ssh_kind, variant)


@pytest.fixture(scope="session", autouse=True)
def _start_ssh_early(request: pytest.FixtureRequest, selected_variants: list[Variant]) -> None:
    """Start the SSH gathering with the session when SSH checks were selected: it overlaps the others."""
    if any(item.get_closest_marker("ssh") for item in request.session.items):
        run_of(request.config).start_all(request.getfixturevalue("ssh_kind"), selected_variants)


@pytest.fixture
def finding(pytestconfig: pytest.Config) -> Callable[[bool, str], None]:
    """``finding(safe, message)``: nothing when safe; else a warning, or a failure with --release."""
    release = bool(pytestconfig.getoption("--release"))

    def report(safe: bool, message: str) -> None:
        if safe:
            return
        if release:
            pytest.fail(f"security finding (--release): {message}")
        warnings.warn(ssh.SecurityFinding(message), stacklevel=2)

    return report
