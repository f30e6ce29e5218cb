"""Fixtures of the SSH checks: the SSH facts of each variant (gathered concurrently), findings."""

from __future__ import annotations

import concurrent.futures
import secrets
import warnings
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from paddle_verify.engine import Session
from paddle_verify.manifest import Variant
from paddle_verify.ssh import SSH_DIR, SecurityFinding, SshFacts, gather


@pytest.fixture(scope="session")
def ssh_password(pytestconfig: pytest.Config) -> str:
    """The root password the SSH containers get at run time: random per session unless given."""
    given: str | None = pytestconfig.getoption("--ssh-password")
    return given if given else secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def ssh_facts(
    docker_session: Session, selected_variants: list[Variant], ssh_password: str, pytestconfig: pytest.Config
) -> Generator[Callable[[Variant], SshFacts], None, None]:
    """``ssh_facts(variant)``: build, run, log in, probe, stop and remove, for every variant at once."""
    given = pytestconfig.getoption("--ssh-context")
    context = Path(pytestconfig.invocation_params.dir, given) if given else SSH_DIR
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(selected_variants)))
    bind, timeout = pytestconfig.getoption("--ssh-bind"), pytestconfig.getoption("--exec-timeout")
    futures = {
        v.name: pool.submit(
            gather, docker_session, v, password=ssh_password, bind=bind, timeout=timeout, context=context
        )
        for v in selected_variants
    }
    try:
        yield lambda variant: futures[variant.name].result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def _start_ssh_early(request: pytest.FixtureRequest) -> None:
    """Start the SSH gathering with the session when SSH checks were selected: it overlaps the others."""
    if any(item.get_closest_marker("ssh") for item in request.session.items):
        request.getfixturevalue("ssh_facts")


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
