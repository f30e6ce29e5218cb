"""A fleet in one run: every check on every engine, a lost engine's column, shards merged (engine names on
this host's engine; a real second engine, a registry and ssh:// in tests/test_fleet_engines.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import docker
import docker.errors
import paramiko
import pytest
from junitparser import JUnitXml

from paddle_verify.engine import daemon_url, leftovers, unreachable
from paddle_verify.facts.image import repository
from paddle_verify.plugin.outcomes import ENGINE_GONE, EXIT_HOST
from paddle_verify.report.merge import main as merge_main
from paddle_verify.report.merge import with_engine

from .conftest import REFERENCE, InnerRun, run_suite

LOCAL = daemon_url()
CPU_ONLY = ("--manifest", str(REFERENCE), "--variant", "cpu", "-m", "not ssh")
ENGINE_ID = re.compile(r"\[(?P<variant>[a-z0-9-]+?)@(?P<engine>[^-\]]+)")


def by_engine(run: InnerRun) -> dict[str, dict[str, str]]:
    """``{engine: {test id without the engine: outcome}}`` from the run's summary.json."""
    out: dict[str, dict[str, str]] = {}
    for test, outcome in run.outcomes().items():
        match = ENGINE_ID.search(test)
        assert match, f"{test}: the test id does not name its engine (expected [VARIANT@NAME...])"
        out.setdefault(match["engine"], {})[ENGINE_ID.sub(r"[\g<variant>", test)] = outcome
    return out


def left_on(client: docker.DockerClient, run: InnerRun) -> list[str]:
    """What any of the run's sessions (one per engine) left on ``client``'s engine."""
    assert run.summary is not None, "no summary.json"
    sessions: dict[str, str] = run.summary["notes"]["sessions"]
    return [name for session in sessions.values() for name in leftovers(client, session)]


@pytest.fixture(scope="module")
def two_names_one_engine(reference_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> InnerRun:
    """One run over two engine names that are the same local engine (a cheap fleet of two)."""
    cwd = tmp_path_factory.mktemp("fleet-ab")
    return run_suite(cwd, *CPU_ONLY, "--engine", f"a={LOCAL}", "--engine", f"b={LOCAL}")


def test_every_check_runs_on_every_engine(two_names_one_engine: InnerRun, docker_client: docker.DockerClient) -> None:
    run = two_names_one_engine
    assert run.ret == 0, f"cpu@a, cpu@b: expected exit 0, found {run.ret}:\n{run.stdout[-3000:]}"
    columns = by_engine(run)
    assert sorted(columns) == ["a", "b"], f"cpu: expected the columns a and b, found {sorted(columns)}"
    assert columns["a"] == columns["b"], f"cpu: a and b differ: {set(columns['a'].items()) ^ set(columns['b'].items())}"
    assert len(columns["a"]) > 15, f"cpu@a: expected every check, found {len(columns['a'])}"
    failed = [t for c in columns.values() for t, o in c.items() if o in ("failed", "error")]
    assert not failed, f"cpu@a, cpu@b: expected no failure, found {failed}"
    assert run.summary is not None
    engines = run.summary["notes"]["engines"]
    for name in ("a", "b"):
        fp = engines[name]["fingerprint"]
        assert fp.get("kernel"), f"engine {name}: expected a kernel in the fingerprint, found {engines[name]}"
        assert fp.get("docker"), f"engine {name}: expected a Docker version in the fingerprint, found {engines[name]}"
        assert f"paddle-verify engine {name}: {LOCAL}: " in run.stdout, f"engine {name}: no fingerprint in the header"
    assert len(run.summary["notes"]["sessions"]) == 2, f"expected one session per engine: {run.summary['notes']}"
    assert left_on(docker_client, run) == [], "cpu@a, cpu@b: the run left containers behind"
    html = (run.path / "reports" / "report.html").read_text()
    for col in ("cpu@a", "cpu@b"):
        assert col in html, f"report.html: expected the column {col}"


def test_one_engine_keeps_todays_ids(reference_images: dict[str, str], tmp_path: Path) -> None:
    run = run_suite(tmp_path, *CPU_ONLY, "--engine", f"only={LOCAL}", "-k", "version_matches_tag")
    assert run.ret == 0, f"cpu: expected exit 0, found {run.ret}:\n{run.stdout[-3000:]}"
    assert list(run.outcomes()) == ["test_version_matches_tag[cpu]"], f"cpu: ids changed: {list(run.outcomes())}"
    assert run.summary is not None
    assert {r["engine"] for r in run.summary["results"]} == {"only"}, "cpu: rows must name the engine only"


def test_lost_engine_costs_its_column_only(
    reference_images: dict[str, str], docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    gone = f"unix://{tmp_path}/nonexistent.sock"
    run = run_suite(tmp_path, *CPU_ONLY, "--engine", f"a={LOCAL}", "--engine", f"gone={gone}")
    # the lost engine's failure is the host's and a's checks pass: no failure is the image's
    assert run.ret == EXIT_HOST, f"cpu@gone: expected exit {EXIT_HOST}, found {run.ret}:\n{run.stdout[-3000:]}"
    columns = by_engine(run)
    lost = columns["gone"]
    failures = [t for t, o in lost.items() if o in ("failed", "error")]
    assert len(failures) == 1, f"cpu@gone: expected exactly one failure, found {failures}"
    messages = {ENGINE_ID.sub(r"[\g<variant>", t): m for t, m in run.messages().items() if "@gone" in t}
    assert "unreachable" in messages[failures[0]], f"cpu@gone: expected 'unreachable', found {messages[failures[0]]!r}"
    not_run = [t for t, o in lost.items() if o == "skipped" and "not run" in messages[t]]
    assert len(not_run) == len(lost) - 1, f"cpu@gone: expected the rest not run, found {lost}"
    assert set(lost) == set(columns["a"]), "cpu: the lost column must list the same checks as a"
    bad = [t for t, o in columns["a"].items() if o in ("failed", "error")]
    assert not bad, f"cpu@a: expected to pass beside a lost engine, found failures {bad}"
    assert left_on(docker_client, run) == [], "cpu@a: the run left containers behind"


def test_bad_engine_option_is_a_usage_error(tmp_path: Path) -> None:
    for args, words in [
        (["--engine", "nourl"], "'nourl' is not NAME=URL"),
        (["--engine", "x=http://h"], "the URL must start with unix://, tcp://, ssh://"),
        (["--engine", f"x={LOCAL}", "--engine", f"x={LOCAL}"], "engine name(s) given twice: x"),
    ]:
        run = run_suite(tmp_path, "--manifest", str(REFERENCE), *args)
        assert run.ret == 4, f"{args}: expected exit 4, found {run.ret}: {run.stderr[-1000:]}"
        assert words in run.stdout + run.stderr, f"{args}: expected {words!r} in:\n{run.stderr[-1000:]}"


def test_with_engine_names_the_engine_in_the_id() -> None:
    nodeid = "checks/test_packages.py::test_package_imports[cpu-devel-paddle]"
    found = with_engine(nodeid, "cpu-devel", "b")
    assert found == "checks/test_packages.py::test_package_imports[cpu-devel@b-paddle]", f"cpu-devel@b: found {found}"
    found = with_engine("t.py::test_x[cpu]", "cpu", "a")
    assert found == "t.py::test_x[cpu@a]", f"cpu@a: found {found}"


def test_merge_refuses_two_shards_on_one_engine_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    row = {"variant": "cpu", "engine": "local", "check": "test_x", "nodeid": "c.py::test_x[cpu]", "outcome": "passed"}
    for shard in ("one", "two"):
        (tmp_path / shard).mkdir()
        summary = {"manifest": "m", "exit_status": 0, "wall_seconds": 1, "notes": {}, "results": [row]}
        (tmp_path / shard / "summary.json").write_text(json.dumps(summary))
    code = merge_main(["merge", str(tmp_path / "one"), str(tmp_path / "two"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 4, f"merge of two shards on engine local: expected exit 4, found {code}"
    assert "give each shard's engine its own name" in err, f"merge: expected the reason, found {err!r}"
    assert not (tmp_path / "out").exists(), "merge: nothing must be written on an error"


def test_shards_merged_equal_one_run(two_names_one_engine: InnerRun, tmp_path: Path) -> None:
    shards = []
    for name in ("a", "b"):
        cwd = tmp_path / name
        cwd.mkdir()
        shard = run_suite(cwd, *CPU_ONLY, "--engine", f"{name}={LOCAL}")
        assert shard.ret == 0, f"cpu@{name}: shard expected exit 0, found {shard.ret}:\n{shard.stdout[-2000:]}"
        shards.append(cwd / "reports")
    out = tmp_path / "merged"
    assert merge_main(["merge", *map(str, shards), "-o", str(out)]) == 0, "merge: expected exit 0"
    merged = InnerRun(ret=0, stdout="", stderr="", summary=json.loads((out / "summary.json").read_text()), path=out)
    # A shard sees one engine: the comparison across engines (one tag, one image) is the one-run's alone.
    one_run = {t: o for t, o in two_names_one_engine.outcomes().items() if "same_image_on_every_engine" not in t}
    assert len(one_run) < len(two_names_one_engine.outcomes()), "the two-engine run compared no engines"
    assert merged.outcomes() == one_run, (
        "cpu@a, cpu@b: merged shards differ from the two-engine run: "
        f"{set(merged.outcomes().items()) ^ set(one_run.items())}"
    )
    assert merged.summary is not None
    assert sorted(merged.summary["notes"]["engines"]) == ["a", "b"], "merge: expected notes.engines a and b"
    junit = JUnitXml.fromfile(str(out / "junit.xml"))
    names = {str(case.name) for suite in junit for case in suite}
    expected = {t.split("::")[-1] for t in one_run}
    assert names == expected, f"merged JUnit: expected the two-engine run's test names, differ: {names ^ expected}"
    html = (out / "report.html").read_text()
    for col in ("cpu@a", "cpu@b"):
        assert col in html, f"merged report.html: expected the column {col}"


def test_repository_is_named_as_in_repo_digests() -> None:
    for ref, expected in [
        ("127.0.0.1:5000/paddle-verify/paddlepaddle:3.3.1-cpu", "127.0.0.1:5000/paddle-verify/paddlepaddle"),
        ("registry:5000/paddle@sha256:0123", "registry:5000/paddle"),
        ("registry:5000/paddle", "registry:5000/paddle"),
        ("docker.io/library/debian:12", "debian"),
        ("paddledev/paddlepaddle:latest-cpu", "paddledev/paddlepaddle"),
    ]:
        assert repository(ref) == expected, f"{ref}: expected the repository {expected}, found {repository(ref)}"


def test_an_ssh_session_refused_is_the_engines_failure_with_the_remedy() -> None:
    refused = paramiko.ChannelException(2, "Connect failed")  # what sshd's MaxSessions gives the SDK
    words = unreachable(refused, "ssh://root@gpu-a")
    assert words.startswith("Docker daemon unreachable at ssh://root@gpu-a: "), f"ssh://: found {words!r}"
    assert "raise its MaxSessions" in words, f"ssh://: expected the remedy, found {words!r}"
    assert isinstance(refused, ENGINE_GONE), "ssh://: a refused session must be the host's failure, not the suite's"
