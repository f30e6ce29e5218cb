"""A lost engine's errors, typed where they arise (no engine needed): docker-py's requests/urllib3
errors become the one DaemonUnreachable, the host's, wherever a fact meets them."""

from __future__ import annotations

from typing import Any, cast

import pytest
import requests
import urllib3.exceptions

from paddle_verify.engine import ENGINE_GONE, DaemonUnreachable, EngineError, Session, translated
from paddle_verify.exits import EXIT_HOST, ExitCode
from paddle_verify.facts import FactMissing, Gatherer, Kind
from paddle_verify.manifest import load
from paddle_verify.ssh import SshFacts

from .conftest import REFERENCE

URL = "unix:///run/gone.sock"
REFUSED = requests.exceptions.ConnectionError(
    urllib3.exceptions.ProtocolError("Connection aborted.", ConnectionRefusedError(111, "Connection refused"))
)


def test_exit_codes_are_one_enum_with_the_old_name_kept() -> None:
    assert EXIT_HOST is ExitCode.HOST, f"EXIT_HOST={EXIT_HOST!r}"
    codes = {code.name: int(code) for code in ExitCode}
    assert codes == {"DAEMON_UNREACHABLE": 7, "HOST": 8}, f"the suite's exit codes: {codes}"


def test_the_raiser_says_whose_fault() -> None:
    assert DaemonUnreachable("x").fault == "host", "a lost daemon is the host's"
    assert EngineError("x").fault is None, "an engine error the raiser did not type is not the host's"
    assert EngineError("x", fault="host").fault == "host", "the raiser types it"
    assert FactMissing("cpu: whatever the words", fault="host").fault == "host", "fault= given wins over words"


@pytest.mark.parametrize("exc", [REFUSED, ConnectionResetError(104, "reset"), urllib3.exceptions.ProtocolError("x")])
def test_docker_py_errors_of_a_lost_daemon_are_translated(exc: BaseException) -> None:
    assert isinstance(exc, ENGINE_GONE), f"{type(exc).__name__} is not counted as a lost engine"
    lost = translated(exc, URL, variant="cpu")
    assert str(lost).startswith(f"cpu: Docker daemon unreachable at {URL}: "), str(lost)
    assert lost.fault == "host", f"{lost}: fault {lost.fault}"
    again = translated(lost, URL, variant="cpu")
    assert str(again) == str(lost), f"translated twice names the variant twice: {again}"


def test_the_gatherer_turns_a_lost_engine_into_one_missing_fact_of_the_host() -> None:
    variant = load(REFERENCE).variants["cpu"]
    session = Session(cast(Any, None), url=URL)  # no client: the kind never reaches it

    def gather(v: Any) -> object:
        raise REFUSED

    try:
        with pytest.raises(FactMissing) as caught:
            Gatherer(session).get(Kind("ssh", gather), variant)
    finally:
        session._pool.shutdown(wait=True)
    message = str(caught.value)
    assert message.startswith(f"cpu: Docker daemon unreachable at {URL}: "), message
    assert "Connection refused" in message, message
    assert caught.value.fault == "host", f"{message}: fault {caught.value.fault}"
    assert "requests" not in message, message
    assert "urllib3" not in message, message


def test_ssh_facts_of_a_lost_engine_are_missing_for_the_host() -> None:
    facts = SshFacts("cpu", error=f"cpu: Docker daemon unreachable at {URL}: gone", error_fault="host")
    with pytest.raises(FactMissing) as caught:
        _ = facts.machine
    assert caught.value.fault == "host", f"{caught.value}: fault {caught.value.fault}"
