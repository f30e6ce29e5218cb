"""A fleet in one run: every check on every engine, a lost engine's column, shards merged, a second dockerd."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
from junitparser import JUnitXml

from paddle_verify.engine import LABEL_SUITE, SUITE, DaemonUnreachable, Engine, connect, daemon_url, leftovers
from paddle_verify.plugin.outcomes import EXIT_HOST
from paddle_verify.report.merge import main as merge_main
from paddle_verify.report.merge import with_engine

from .conftest import REFERENCE, ROOT, InnerRun, prerequisite, run_suite

LOCAL = daemon_url()
CPU_ONLY = ("--manifest", str(REFERENCE), "--variant", "cpu", "-m", "not ssh")
ENGINE_ID = re.compile(r"\[cpu@(?P<engine>[^-\]]+)")


def by_engine(run: InnerRun) -> dict[str, dict[str, str]]:
    """``{engine: {test id without the engine: outcome}}`` from the run's summary.json."""
    out: dict[str, dict[str, str]] = {}
    for test, outcome in run.outcomes().items():
        match = ENGINE_ID.search(test)
        assert match, f"cpu: test id {test} does not name its engine (expected [cpu@NAME...])"
        out.setdefault(match["engine"], {})[ENGINE_ID.sub("[cpu", test)] = outcome
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
    messages = {ENGINE_ID.sub("[cpu", t): m for t, m in run.messages().items() if "@gone" in t}
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
    assert merged.outcomes() == two_names_one_engine.outcomes(), (
        "cpu@a, cpu@b: merged shards differ from the two-engine run: "
        f"{set(merged.outcomes().items()) ^ set(two_names_one_engine.outcomes().items())}"
    )
    assert merged.summary is not None
    assert sorted(merged.summary["notes"]["engines"]) == ["a", "b"], "merge: expected notes.engines a and b"
    junit = JUnitXml.fromfile(str(out / "junit.xml"))
    names = {str(case.name) for suite in junit for case in suite}
    expected = {t.split("::")[-1] for t in two_names_one_engine.outcomes()}
    assert names == expected, f"merged JUnit: expected the two-engine run's test names, differ: {names ^ expected}"
    html = (out / "report.html").read_text()
    for col in ("cpu@a", "cpu@b"):
        assert col in html, f"merged report.html: expected the column {col}"


# A real second engine ------------------------------------------------------------------


def _stop(proc: subprocess.Popen[bytes], root: Path) -> None:
    """Stop the second dockerd (TERM, then KILL after a deadline) and remove everything it had."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    for line in reversed(Path("/proc/mounts").read_text().splitlines()):
        mountpoint = line.split()[1]
        if mountpoint.startswith(f"{root}/"):
            subprocess.run(["umount", "-l", mountpoint], check=False, capture_output=True)
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class SecondEngine:
    engine: Engine
    proc: subprocess.Popen[bytes]
    root: Path

    def stop(self) -> None:
        _stop(self.proc, self.root)


@pytest.fixture(scope="module")
def second_engine(reference_images: dict[str, str]) -> Generator[SecondEngine, None, None]:
    """A second dockerd on this machine (its own data-root, exec-root, pidfile, socket; no bridge,
    no iptables) holding the cpu reference image; stopped and removed at the end, also on failure.
    Module-scoped (the copy of the image takes a minute): the test that stops it comes last."""
    prerequisite(os.geteuid() == 0 and shutil.which("dockerd") is not None, "a second dockerd needs root and dockerd")
    root = Path(tempfile.mkdtemp(prefix="pv-", dir="/tmp"))  # short: containerd's socket path has a limit
    (root / "daemon.json").write_text("{}\n")
    engine = Engine("b", f"unix://{root}/docker.sock")
    log = (root / "dockerd.log").open("wb")
    # In a network namespace of its own: a dockerd started with --bridge=none deletes the host's
    # docker0 (removeDefaultBridgeInterface), cutting the bridge from under the main engine.
    proc = subprocess.Popen(
        [
            "unshare",
            "--net",
            "dockerd",
            f"--data-root={root}/data",
            f"--exec-root={root}/exec",
            f"--pidfile={root}/docker.pid",
            f"--host={engine.url}",
            f"--config-file={root}/daemon.json",
            "--bridge=none",
            "--iptables=false",
            "--ip-masq=false",
            "--storage-driver=overlay2",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        client = None
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = connect(engine=engine, timeout=5)
            except DaemonUnreachable:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the second dockerd did not answer: {(root / 'dockerd.log').read_text()[-2000:]}")
                time.sleep(0.2)  # the daemon's socket appears when it is ready; nothing to wait on but it
        client.close()
        # A save and a load take a while (minutes on a busy machine): clients with long timeouts.
        local = connect(timeout=600)
        with contextlib.closing(connect(engine=engine, timeout=600)) as client, contextlib.closing(local):
            image = local.images.get(reference_images["cpu"])
            archive = root / "cpu.tar"  # docker save | docker load, through a file the SDK streams
            with archive.open("wb") as out:
                for chunk in image.save(chunk_size=4 << 20, named=reference_images["cpu"]):
                    out.write(chunk)
            with archive.open("rb") as data:
                client.images.load(data)
            archive.unlink()
            assert client.images.get(reference_images["cpu"]).id == image.id, "cpu: the image changed in the copy"
        yield SecondEngine(engine, proc, root)
    finally:
        log.close()
        _stop(proc, root)


def test_a_real_second_engine(second_engine: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path) -> None:
    url = second_engine.engine.url
    singles = []
    for name, where in (("local", LOCAL), ("b", url)):
        (tmp_path / name).mkdir()
        started = time.monotonic()
        single = run_suite(tmp_path / name, *CPU_ONLY, "--engine", f"{name}={where}")
        singles.append(time.monotonic() - started)
        assert single.ret == 0, f"cpu@{name}: expected exit 0 alone, found {single.ret}:\n{single.stdout[-2000:]}"
    started = time.monotonic()
    run = run_suite(tmp_path, *CPU_ONLY, "--engine", f"local={LOCAL}", "--engine", f"b={url}")
    seconds = time.monotonic() - started
    assert run.ret == 0, f"cpu@local, cpu@b: expected exit 0, found {run.ret}:\n{run.stdout[-3000:]}"
    columns = by_engine(run)
    assert columns["local"] == columns["b"], (
        f"cpu: local and b differ: {set(columns['local'].items()) ^ set(columns['b'].items())}"
    )
    assert run.summary is not None
    fp = run.summary["notes"]["engines"]["b"]["fingerprint"]
    assert fp.get("docker"), f"engine b: expected a fingerprint, found {fp}"
    assert left_on(docker_client, run) == [], "cpu@local: the run left containers behind"
    with contextlib.closing(connect(engine=second_engine.engine)) as client:
        assert left_on(client, run) == [], "cpu@b: the run left containers behind on the second engine"
    print(  # read with -s
        f"cpu, not ssh: local alone {singles[0]:.1f}s, b alone {singles[1]:.1f}s, "
        f"both in one run {seconds:.1f}s (ratio {seconds / sum(singles):.2f} of the two one after the other)"
    )


def _until(what: str, seconds: float, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f}s"
        time.sleep(0.1)  # polling the engines: there is no event to wait on across processes


def test_interrupted_fleet_run_leaves_nothing_on_any_engine(
    second_engine: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """SIGTERM while both engines have containers: the one owner removes them from both."""
    label = f"selftest-fleet-{os.getpid()}"
    command = [sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider", *CPU_ONLY]
    engines = ["--engine", f"local={LOCAL}", "--engine", f"b={second_engine.engine.url}"]
    proc = subprocess.Popen(
        [*command, *engines, "--run-label", label], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    with contextlib.closing(connect(engine=second_engine.engine)) as client_b:
        try:
            _until("containers of the run on both engines", 60, lambda: bool(
                leftovers(docker_client, run=label) and leftovers(client_b, run=label)
            ))  # fmt: skip
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = out.decode(errors="replace")[-2000:]
        assert proc.returncode != 0, f"cpu@local, cpu@b: a run stopped by SIGTERM exited 0:\n{text}"
        assert leftovers(docker_client, run=label) == [], f"cpu@local: the stopped run left containers:\n{text}"
        assert leftovers(client_b, run=label) == [], f"cpu@b: the stopped run left containers on b:\n{text}"


def test_engine_stopped_mid_run_costs_its_column(
    second_engine: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """Last of the module: it stops the second engine."""
    url = second_engine.engine.url
    command = [sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider", *CPU_ONLY]
    proc = subprocess.Popen(
        [*command, "--engine", f"local={LOCAL}", "--engine", f"b={url}"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        with contextlib.closing(connect(engine=second_engine.engine)) as client:
            deadline = time.monotonic() + 60
            while not client.containers.list(all=True, filters={"label": f"{LABEL_SUITE}={SUITE}"}):
                assert time.monotonic() < deadline, "cpu@b: the run made no container on b within 60 s"
                assert proc.poll() is None, "the run ended before it made a container on b"
                time.sleep(0.05)  # polling the engine: there is no event to wait on across processes
        second_engine.stop()
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout = out.decode(errors="replace")
    run = InnerRun(ret=proc.returncode, stdout=stdout, stderr="", summary=None, path=tmp_path)
    summary = tmp_path / "reports" / "summary.json"
    assert summary.exists(), f"no summary.json:\n{stdout[-3000:]}"
    run.summary = json.loads(summary.read_text())
    assert run.ret == EXIT_HOST, f"cpu@b: expected exit {EXIT_HOST} with b stopped, found {run.ret}:\n{stdout[-3000:]}"
    columns = by_engine(run)
    bad = [t for t, o in columns["local"].items() if o in ("failed", "error")]
    assert not bad, f"cpu@local: expected to pass while b went away, found failures {bad}"
    failures = {t: m for t, m in run.messages().items() if "@b" in t and run.outcomes()[t] in ("failed", "error")}
    assert failures, f"cpu@b: expected failures once b was stopped, found {columns['b']}"
    print(f"cpu@b stopped mid-run: {len(failures)} failure(s), e.g. {next(iter(failures.values()))[:300]}")
    assert left_on(docker_client, run) == [], "cpu@local: the run left containers behind"
