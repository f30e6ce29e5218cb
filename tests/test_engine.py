"""The engine layer against the real daemon: bounded execs, failed starts, sweeps, labels."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Generator

import docker
import pytest

from paddle_verify.engine import (
    LABEL_SESSION,
    EngineError,
    Session,
    cid,
    exec_bounded,
    leftovers,
    sweep,
)
from paddle_verify.engine.labels import LABEL_OWNER, owner_alive, owner_token

BASE = "paddle-verify/debian:12"


@pytest.fixture
def session(docker_client: docker.DockerClient, reference_images: dict[str, str]) -> Generator[Session, None, None]:
    s = Session(docker_client)
    yield s
    s.close()
    assert leftovers(docker_client, s.id) == []


def keep_alive(session: Session, variant: str = "cpu") -> str:
    c = session.create_container(BASE, variant=variant, purpose="test", entrypoint=["sleep"], command=["infinity"])
    session.start_container(c, variant=variant)
    return cid(c)


def test_exec_returns_output_and_exit_code(session: Session) -> None:
    ident = keep_alive(session)
    result = exec_bounded(session.client, ident, ["sh", "-c", "echo out; echo err >&2; exit 3"], timeout=10)
    assert (result.rc, result.stdout, result.stderr, result.timed_out) == (3, "out\n", "err\n", False)


def test_exec_past_its_deadline_is_killed(session: Session) -> None:
    ident = keep_alive(session)
    start = time.monotonic()
    result = exec_bounded(session.client, ident, ["sleep", "30"], timeout=1)
    assert result.timed_out
    assert result.rc is None
    assert time.monotonic() - start < 5
    listing = ["sh", "-c", 'for p in /proc/[0-9]*; do tr "\\0" " " < $p/cmdline; echo; done']
    ps = exec_bounded(session.client, ident, listing, timeout=10)
    assert "sleep infinity" in ps.stdout, ps.stdout
    assert "sleep 30" not in ps.stdout, f"the timed-out exec still runs: {ps.stdout}"


def test_failed_start_removes_the_container_and_names_the_reason(session: Session) -> None:
    c = session.create_container(BASE, variant="cpu", purpose="test", entrypoint=["/no/such/binary"])
    with pytest.raises(EngineError) as err:
        session.start_container(c, variant="cpu")
    assert str(err.value).startswith("cpu: container did not start: ")
    assert "/no/such/binary" in str(err.value)
    assert leftovers(session.client, session.id) == []


def test_every_resource_carries_the_session_labels(session: Session) -> None:
    ident = keep_alive(session, "cpu-devel")
    labels = session.client.containers.get(ident).labels
    assert labels[LABEL_SESSION] == session.id
    assert labels["org.paddle-verify.variant"] == "cpu-devel"
    assert owner_alive(labels[LABEL_OWNER])


def test_sweep_removes_dead_sessions_only(docker_client: docker.DockerClient, session: Session) -> None:
    dead_pid = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True).stdout.strip()
    dead = Session(docker_client, owner=f"{owner_token().rsplit(':', 2)[0]}:{dead_pid}:1")
    assert not owner_alive(dead.owner)
    dead_container = dead.create_container(BASE, variant="cpu", purpose="test", entrypoint=["true"])
    live_other = Session(docker_client)  # another live session of this same process
    live_container = live_other.create_container(BASE, variant="cpu", purpose="test", entrypoint=["true"])
    try:
        assert sweep(docker_client, dead_only=True) >= 1
        assert leftovers(docker_client, dead.id) == []
        assert leftovers(docker_client, live_other.id) == [f"container {live_container.name}"]
    finally:
        live_other.close()
        dead.close()
    del dead_container
