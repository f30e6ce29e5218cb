"""The plugin's wiring (``plugin/run.py``, ``plugin/fleet.py``): one run state read through ``run_of``,
one column per engine, and the lost engine's one failure built in one place, naming the engine.

No engine: the engines here point at sockets that do not exist (reached, they are lost at once),
and the inner run is pytester's, in process.
"""

from __future__ import annotations

import ast
from pathlib import Path

import docker
import pytest
import requests

from paddle_verify.engine import DaemonUnreachable, Engine, Session
from paddle_verify.engine.client import UNREACHABLE
from paddle_verify.facts import FactMissing, Kind
from paddle_verify.gpu import HostGpus
from paddle_verify.manifest import load
from paddle_verify.plugin.fleet import Fleet
from paddle_verify.plugin.selection import packaged_manifest

pytest_plugins = ("pytester",)
PLUGIN = Path(__file__).resolve().parents[1] / "paddle_verify" / "plugin"
GONE = "unix:///nonexistent/paddle-verify-test.sock"


def _fleet(*names: str) -> tuple[Fleet, list[dict[str, object]]]:
    notes: list[dict[str, object]] = []
    engines = [Engine(name, f"{GONE}-{name}") for name in names]

    def no_gpus() -> HostGpus:
        raise AssertionError("a lost engine's fingerprint asks for no GPU")

    return Fleet(engines, note=notes.append, host_gpus=no_gpus), notes


def test_a_lost_engines_column_raises_its_one_failure_naming_the_engine() -> None:
    fleet, notes = _fleet("a", "b")
    cpu = load(packaged_manifest()).variants["cpu"]
    with pytest.raises(FactMissing) as caught:
        fleet.of(cpu.on("b"))
    failure = caught.value
    url = f"{GONE}-b"
    assert str(failure).startswith(f"cpu@b: engine b lost: {UNREACHABLE}{url}: "), f"the failure: {failure}"
    assert (failure.cause, failure.fault) == ("engine b lost", "host"), f"cause/fault: {failure.cause}, {failure.fault}"
    # Every way of asking a lost column gives the same failure: its cause is one per engine.
    for ask in (lambda: fleet.of(None), lambda: fleet.column(cpu.on("a")).session):
        with pytest.raises(FactMissing) as again:
            ask()
        assert again.value.cause in {"engine a lost", "engine b lost"}, f"another failure: {again.value}"
    lost = notes[-1]["b"]
    assert isinstance(lost, dict), f"the engines' notes: {notes}"
    assert str(lost["lost"]).startswith(f"{UNREACHABLE}{url}: "), f"the engines' notes: {notes}"


def test_the_header_says_why_from_the_typed_reason_not_by_stripping_words() -> None:
    fleet, _ = _fleet("local")
    column = fleet.column(None)
    assert isinstance(column.state.lost, DaemonUnreachable), f"the lost state is typed: {column.state.lost!r}"
    reason = column.state.lost.reason
    assert reason, "the lost engine has a reason"
    assert UNREACHABLE not in reason, f"the reason alone: {reason!r}"
    assert fleet.header() == [f"paddle-verify engine local: {GONE}-local: unreachable: {reason}"], fleet.header()


def test_an_engine_lost_under_a_gatherer_is_its_columns_failure() -> None:
    """A fact whose gathering met docker-py's error of a lost daemon: the column's one failure (the same
    cause as the column asked when lost), not a second wording of it."""
    fleet, _ = _fleet("a")
    column = fleet.column(None)
    client = docker.DockerClient(base_url=column.engine.url, version="1.43")  # no request is sent
    column.open(Session(client, url=column.engine.url))
    cpu = load(packaged_manifest()).variants["cpu"]

    def gone(variant: object) -> object:
        raise requests.exceptions.ConnectionError("Connection aborted")

    try:
        assert fleet.of(cpu) is column, "an open column is handed out"
        with pytest.raises(FactMissing) as caught:
            column.gatherer.get(Kind("lost", gone), cpu)
    finally:
        column.close()
    assert str(caught.value).startswith("cpu: engine a lost: "), f"the failure: {caught.value}"
    assert (caught.value.cause, caught.value.fault) == ("engine a lost", "host"), caught.value.cause


def test_one_run_state_read_by_every_hook_and_fixture(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        from paddle_verify.plugin.run import run_of

        SEEN = []

        def pytest_collection_modifyitems(config, items):
            SEEN.append(run_of(config))

        def pytest_sessionstart(session):
            SEEN.append(run_of(session.config))
        """
    )
    pytester.makepyfile(
        """
        import conftest
        from paddle_verify.plugin.run import Run, run_of

        def test_one(pytestconfig, selected_variants):
            run = run_of(pytestconfig)
            assert isinstance(run, Run)
            assert all(seen is run for seen in conftest.SEEN) and len(conftest.SEEN) == 2, conftest.SEEN
            assert [v.name for v in run.variants] == ["cpu"] == [v.name for v in selected_variants]
            assert run.fleet.engines == run.engines and run.reuse is None and run.baseline is None
        """
    )
    result = pytester.runpytest_inprocess("--variant", "cpu", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_the_plugin_keeps_its_run_state_under_one_stash_key() -> None:
    """Every ``StashKey`` the plugin's modules make: the Run's one."""
    keys = []
    for path in sorted(PLUGIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Subscript) and ast.unparse(node.value).endswith("StashKey"):
                keys.append(f"{path.name}: {ast.unparse(node)}")
    others = [k for k in keys if not k.startswith("run.py")]
    assert [k for k in keys if k.startswith("run.py")] == ["run.py: pytest.StashKey[Run]"], keys
    assert not others, f"run state kept outside the Run: {others}"
