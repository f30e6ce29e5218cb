"""A real fleet on this machine: a registry holding the cpu reference images, a second dockerd in its own
network namespace that pulls them from it, reached over ssh://; --pull and the digest check; a lost engine."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Generator
from pathlib import Path

import docker
import pytest

from paddle_verify.engine import LABEL_SUITE, SUITE, connect, leftovers
from paddle_verify.plugin.outcomes import EXIT_HOST

from .conftest import REFERENCE, ROOT, InnerRun, prerequisite, run_suite
from .registry import BINARY, Registry
from .second_engine import SecondEngine, second_engine
from .sshd import SSHD, Sshd, sshd
from .test_fleet import LOCAL, by_engine, left_on

CPU3 = ("cpu", "cpu-devel", "cpu-demo")

# The whole module is disruptive: its engine b is a dockerd of its own, which its last test stops.
# One tier (make test-long) holds it, so that its registry push and b's pulls (the module's
# fixtures, 100 s here) are paid once per CI run, not once in each tier.
pytestmark = pytest.mark.disruptive
REPO = "paddle-verify/paddlepaddle"  # the reference images' repository (variants/reference.toml)
TAGS = [f"3.3.1-{name}" for name in CPU3]
CPU3_ARGS = ("--manifest", str(REFERENCE), "--variant", ",".join(CPU3), "-m", "not ssh")


@pytest.fixture(scope="module")
def registry(reference_images: dict[str, str]) -> Generator[Registry, None, None]:
    """docker-registry on 127.0.0.1, the three cpu reference images pushed to it as REGISTRY/REPO:TAG;
    every REGISTRY/... tag on this host's engine (the pushes', the --pull runs') removed at the end."""
    prerequisite(os.geteuid() == 0 and Path(BINARY).exists(), f"the registry self-tests need root and {BINARY}")
    assert [reference_images[name] for name in CPU3] == [f"{REPO}:{tag}" for tag in TAGS], "reference names changed"
    reg = Registry(Path(tempfile.mkdtemp(prefix="pv-registry-")))
    local = connect(timeout=900)  # a push takes minutes on a busy machine
    try:
        for tag in TAGS:
            local.images.get(f"{REPO}:{tag}").tag(f"{reg.host}/{REPO}", tag)
            errors = [e for e in local.images.push(f"{reg.host}/{REPO}", tag, stream=True, decode=True) if "error" in e]
            assert not errors, f"{tag}: push to {reg.host} failed: {errors}"
        yield reg
    finally:
        for image in local.images.list(name=f"{reg.host}/{REPO}"):
            for ref in image.tags:
                if ref.startswith(f"{reg.host}/"):
                    local.images.remove(ref, noprune=True)
        local.close()
        reg.close()


@pytest.fixture(scope="module")
def engine_b(registry: Registry) -> Generator[SecondEngine, None, None]:
    """The second engine, the three cpu images pulled from the registry. Module-scoped (the pulls take a
    minute): the test that stops it comes last."""
    prerequisite(
        all(shutil.which(t) for t in ("dockerd", "ip", "nsenter")), "a second engine needs dockerd, ip, nsenter"
    )
    with second_engine(registry, REPO, TAGS) as engine:
        yield engine


@pytest.fixture(scope="module")
def ssh_b(engine_b: SecondEngine) -> Generator[Sshd, None, None]:
    """sshd on 127.0.0.1 whose root login reaches engine b: the suite names it ssh://root@127.0.0.1:PORT."""
    prerequisite(Path(SSHD).exists(), f"the ssh:// self-tests need {SSHD} (openssh-server)")
    with sshd(engine_b.engine.url) as server:
        yield server


def _fleet(cwd: Path, ssh: Sshd, *args: str, engines: tuple[str, ...] = ("local", "b")) -> InnerRun:
    urls = {"local": LOCAL, "b": ssh.url}
    flags = [arg for name in engines for arg in ("--engine", f"{name}={urls[name]}")]
    return run_suite(cwd, *args, *flags, env={"HOME": str(ssh.home)})  # HOME: the ssh key and known_hosts


def _ratio_of_pair(cwd: Path, ssh: Sshd, both_first: bool) -> tuple[float, float, float, InnerRun]:
    """(local alone, b alone, both in one run) in seconds, in the order asked; the two-engine run."""
    times: dict[str, float] = {}
    runs: dict[str, InnerRun] = {}
    for what in ("both", "local", "b") if both_first else ("local", "b", "both"):
        (cwd / what).mkdir(parents=True)
        started = time.monotonic()
        runs[what] = _fleet(cwd / what, ssh, *CPU3_ARGS, engines=("local", "b") if what == "both" else (what,))
        times[what] = time.monotonic() - started
        assert runs[what].ret == 0, f"{what}: expected exit 0, found {runs[what].ret}:\n{runs[what].stdout[-3000:]}"
    return times["local"], times["b"], times["both"], runs["both"]


def test_a_real_second_engine_over_ssh(
    ssh_b: Sshd, engine_b: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """The three cpu variants on both engines in one run, b reached over ssh://: the same outcomes in
    both columns. With PADDLE_VERIFY_FLEET_PAIRS=N (scripts/fleet-side-by-side.sh) also timed side by
    side with the two single runs, N pairs alternating which comes first."""
    pairs = int(os.environ.get("PADDLE_VERIFY_FLEET_PAIRS", "0"))
    ratios = []
    for i in range(max(pairs, 1)):
        if pairs:
            alone_local, alone_b, both, run = _ratio_of_pair(tmp_path / f"pair{i}", ssh_b, both_first=i % 2 == 1)
            ratios.append(both / (alone_local + alone_b))
            print(
                f"pair {i}: local alone {alone_local:.1f}s, b alone {alone_b:.1f}s, both {both:.1f}s: {ratios[-1]:.3f}"
            )
        else:
            run = _fleet(tmp_path, ssh_b, *CPU3_ARGS)
            assert run.ret == 0, f"both: expected exit 0, found {run.ret}:\n{run.stdout[-3000:]}"
        columns = by_engine(run)
        assert sorted(columns) == ["b", "local"], f"cpu: expected the columns local and b, found {sorted(columns)}"
        assert columns["local"] == columns["b"], (
            f"local and b differ: {set(columns['local'].items()) ^ set(columns['b'].items())}"
        )
        assert {v for t in columns["b"] for v in CPU3 if f"[{v}]" in t or f"[{v}-" in t} == set(CPU3), (
            "b: not every variant"
        )
        assert run.summary is not None
        engine = run.summary["notes"]["engines"]["b"]
        assert engine["url"] == ssh_b.url, f"engine b: expected {ssh_b.url}, found {engine}"
        assert engine["fingerprint"].get("docker"), f"engine b: expected a fingerprint, found {engine}"
        assert left_on(docker_client, run) == [], "local: the run left containers behind"
        with contextlib.closing(connect(engine=engine_b.engine)) as client:
            assert left_on(client, run) == [], "b: the run left containers behind on the second engine"
    if ratios:
        print(  # read with -s
            f"three cpu variants, not ssh, b over ssh://: one two-engine run / the two single runs one after the "
            f"other: median {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f}, {pairs} pair(s))"
        )


def test_pull_records_each_engines_digest(
    registry: Registry, ssh_b: Sshd, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """--pull on both engines: each pulls the tag from the registry; the digests are recorded and agree."""
    ref = f"{registry.host}/{REPO}:3.3.1-cpu"
    run = _fleet(tmp_path, ssh_b, "--manifest", str(REFERENCE), "--image", f"cpu={ref}", "--pull", "-k", "same_image")
    assert run.ret == 0, f"cpu@local, cpu@b: expected exit 0, found {run.ret}:\n{run.stdout[-3000:]}"
    assert set(run.outcomes()) == {f"test_same_image_on_every_engine[cpu@{e}]" for e in ("local", "b")}, (
        f"cpu: expected test_same_image_on_every_engine on both engines, found {run.outcomes()}"
    )
    digest = registry.digest("127.0.0.1", REPO, "3.3.1-cpu")
    assert run.summary is not None
    notes = run.summary["notes"]["variants"]
    for engine in ("local", "b"):
        note = notes[f"cpu@{engine}"]
        assert note["repo_digest"] == digest, f"cpu@{engine}: expected the registry's {digest}, found {note}"
        assert (note["image"], note["engine"]) == (ref, engine), f"cpu@{engine}: found {note}"
    junit = ET.parse(tmp_path / "reports" / "junit.xml").getroot()
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props.get("image.cpu@b.repo_digest") == digest, f"cpu@b: no digest in the JUnit properties: {props}"
    sboms = sorted(p.name for p in (tmp_path / "reports" / "sbom").iterdir())
    assert sboms == ["cpu.cdx.json"], f"cpu: one image ID on both engines, one SBOM expected, found {sboms}"
    # Compared on several engines with or without --pull (the image ID, not the repository digest);
    # deselected with one engine.
    for args, engines, compared in (
        (("--image", f"cpu={ref}"), ("local", "b"), True),
        (("--pull",), ("local",), False),
    ):
        (tmp_path / engines[-1]).mkdir()
        col = _fleet(tmp_path / engines[-1], ssh_b, *CPU3_ARGS, *args, "--collect-only", "-q", engines=engines)
        found = "same_image_on_every_engine" in col.stdout
        assert found == compared, f"{args} on {engines}: expected compared={compared}:\n{col.stdout}"


def test_a_tag_repointed_on_one_engine_fails_the_digest_check(
    registry: Registry, engine_b: SecondEngine, ssh_b: Sshd, tmp_path: Path
) -> None:
    """The registry engine b pulls from (its mirror, on the veth) points 3.3.1-cpu at the cpu-demo image:
    test_same_image_on_every_engine fails on both engines, naming both engines and both digests."""
    ref = f"{registry.host}/{REPO}:3.3.1-cpu"
    at_b = engine_b.netns.host_ip
    original = registry.digest(at_b, REPO, "3.3.1-cpu")
    try:
        other = registry.repoint(at_b, REPO, "3.3.1-cpu", to="3.3.1-cpu-demo")
        assert other != original, "cpu: the re-pointed tag kept its digest"
        run = _fleet(
            tmp_path, ssh_b, "--manifest", str(REFERENCE), "--image", f"cpu={ref}", "--pull", "-k", "same_image"
        )
    finally:
        registry.repoint(at_b, REPO, "3.3.1-cpu", to=original)
    assert run.ret == 1, f"cpu: expected exit 1 (the image's failure), found {run.ret}:\n{run.stdout[-3000:]}"
    assert run.failed() == {f"test_same_image_on_every_engine[cpu@{e}]" for e in ("local", "b")}, run.outcomes()
    for test, message in run.messages().items():
        for words in ("cpu: tag", ref, "is image sha256:", original, other, "engine local", "engine b"):
            assert words in message, f"{test}: expected {words!r} in the message, found {message!r}"
    sboms = sorted(p.name for p in (tmp_path / "reports" / "sbom").iterdir())
    assert sboms == ["cpu@b.cdx.json", "cpu@local.cdx.json"], f"cpu: two images, one SBOM each expected: {sboms}"
    print(f"repointed: {run.messages()['test_same_image_on_every_engine[cpu@b]']}")


def _until(what: str, seconds: float, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f}s"
        time.sleep(0.1)  # polling the engines: there is no event to wait on across processes


def _popen(cwd: Path, ssh: Sshd, *args: str) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider", *CPU3_ARGS, *args]
    engines = ["--engine", f"local={LOCAL}", "--engine", f"b={ssh.url}"]
    env = {**os.environ, "HOME": str(ssh.home)}
    return subprocess.Popen([*command, *engines], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)


def test_interrupted_fleet_run_leaves_nothing_on_any_engine(
    ssh_b: Sshd, engine_b: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """SIGTERM while both engines have containers: the one owner removes them from both."""
    label = f"selftest-fleet-{os.getpid()}"
    proc = _popen(tmp_path, ssh_b, "--run-label", label)
    with contextlib.closing(connect(engine=engine_b.engine)) as client_b:
        try:
            _until("containers of the run on both engines", 90, lambda: bool(
                leftovers(docker_client, run=label) and leftovers(client_b, run=label)
            ))  # fmt: skip
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        text = out.decode(errors="replace")[-2000:]
        assert proc.returncode != 0, f"local, b: a run stopped by SIGTERM exited 0:\n{text}"
        assert leftovers(docker_client, run=label) == [], f"local: the stopped run left containers:\n{text}"
        assert leftovers(client_b, run=label) == [], f"b: the stopped run left containers on b:\n{text}"


def test_engine_stopped_mid_run_costs_its_column(
    ssh_b: Sshd, engine_b: SecondEngine, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """Last of the module: it stops the second engine's dockerd while the suite talks to it over ssh://."""
    proc = _popen(tmp_path, ssh_b)
    try:
        with contextlib.closing(connect(engine=engine_b.engine)) as client:
            _until("a container of the run on b", 90, lambda: bool(
                proc.poll() is None and client.containers.list(all=True, sparse=True, filters={"label": f"{LABEL_SUITE}={SUITE}"})
            ))  # fmt: skip
        engine_b.stop()
        out, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    stdout = out.decode(errors="replace")
    summary = tmp_path / "reports" / "summary.json"
    assert summary.exists(), f"no summary.json:\n{stdout[-3000:]}"
    run = InnerRun(
        ret=proc.returncode, stdout=stdout, stderr="", summary=json.loads(summary.read_text()), path=tmp_path
    )
    assert run.ret == EXIT_HOST, f"b: expected exit {EXIT_HOST} with b stopped, found {run.ret}:\n{stdout[-3000:]}"
    columns = by_engine(run)
    bad = [t for t, o in columns["local"].items() if o in ("failed", "error")]
    assert not bad, f"local: expected to pass while b went away, found failures {bad}"
    failures = {t: m for t, m in run.messages().items() if "@b" in t and run.outcomes()[t] in ("failed", "error")}
    assert failures, f"b: expected failures once b was stopped, found {columns['b']}"
    print(f"b stopped mid-run: {len(failures)} failure(s), e.g. {next(iter(failures.values()))[:300]}")
    assert left_on(docker_client, run) == [], "local: the run left containers behind"
