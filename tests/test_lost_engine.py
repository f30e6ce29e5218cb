"""A lost engine is one failure wherever it strikes: the full gate of the three cpu variants (SSH
included), and a CPU benchmark, against a second dockerd of this module's own
(:mod:`tests.netns_engine`: its own network namespace, data-root, exec-root, pidfile and unix
socket), stopped at seeded random moments and while the checks run. The cpu reference images
and their SSH images are copied into it once (``docker save | docker load``). The main engine
is never stopped.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from paddle_verify import ssh
from paddle_verify.engine import Session
from paddle_verify.exits import ExitCode

from .conftest import ROOT, prerequisite
from .netns_engine import GateRun, NetnsEngine, gate, netns_engine, swept_leftovers

pytestmark = pytest.mark.disruptive
FORBIDDEN = re.compile(r"Traceback|urllib3|requests\.exceptions|docker\.errors")
SEED = int(os.environ.get("PADDLE_VERIFY_SEED", "22"))  # read when the test runs: the moments' seed


def _ssh_images(client: docker.DockerClient, images: dict[str, str]) -> list[str]:
    """The SSH image of each reference image, as the gate names it (built on the main engine if absent)."""
    session = Session(client)
    try:
        return [ssh.build_ssh_image(session, image, variant=name) for name, image in images.items()]
    finally:
        session.close()


@pytest.fixture(scope="module")
def engine_b(docker_client: docker.DockerClient, reference_images: dict[str, str]) -> Iterator[NetnsEngine]:
    """The second engine, holding the cpu reference images and their SSH images (copied once)."""
    prerequisite(os.geteuid() == 0, "a dockerd of its own in a network namespace needs root")
    for tool in ("ip", "nsenter", "dockerd"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    images = [*reference_images.values(), *_ssh_images(docker_client, reference_images)]
    with netns_engine() as box:
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        load = subprocess.run(
            ["docker", "-H", box.engine.url, "load", "-q"], stdin=save.stdout, capture_output=True, timeout=1200
        )
        assert save.stdout is not None
        save.stdout.close()
        assert save.wait(timeout=60) == 0, f"docker save {images} failed"
        assert load.returncode == 0, f"docker load into the second engine: {load.stderr[-500:]!r}"
        yield box


@pytest.fixture(scope="module")
def untouched(engine_b: NetnsEngine, tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The gate on the second engine, not stopped: it passes, and its length places the moments."""
    run = gate(engine_b, tmp_path_factory.mktemp("untouched"), None)
    assert run.rc == 0, f"the gate on the second engine failed before anything was stopped:\n{run.output[-3000:]}"
    return run


# The moments: early and during SSH (seeded fractions of the untouched gate's facts phase, SSH
# included: the checks start when the facts are in), and near the end (a seeded progress mark
# of the checks: the facts read, the last SSH facts and the teardown still to come).
MOMENTS = {"early": (0.25, 0.4), "during-ssh": (0.5, 0.8), "near-the-end": (40, 90)}
PROGRESS = re.compile(r"\[\s*(\d+)%\]$", re.M)


def facts_phase(run: GateRun) -> float:
    """Seconds until the facts of every variant were in (the terminal summary's "facts in Xs")."""
    return max(float(s) for s in re.findall(r"facts in ([\d.]+)s", run.output))


def past(percent: int) -> re.Pattern[str]:
    """The output once the checks' progress reached ``percent``."""
    marks = "|".join(str(n) for n in range(percent, 101))
    return re.compile(rf"\[\s*(?:{marks})%\]$", re.M)


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_lost_engine_is_one_failure_wherever_it_strikes(
    moment: str, as_root: None, engine_b: NetnsEngine, untouched: GateRun, tmp_path: Path
) -> None:
    low, high = MOMENTS[moment]
    rng = random.Random(f"{SEED}-{moment}")
    if engine_b.proc is None or engine_b.proc.poll() is not None:
        engine_b.start()  # a previous moment's stop (its test failed before the restart)
    if moment == "near-the-end":
        mark = rng.randint(int(low), int(high))
        run = gate(engine_b, tmp_path, None, once=past(mark))
        when = f"at {mark}% of the checks"
    else:
        run = gate(engine_b, tmp_path, rng.uniform(low, high) * facts_phase(untouched))
        when = f"{run.stopped_at or 0:.1f}s into the gate"
    checking = PROGRESS.search(run.at_stop) is not None  # a check had reported: the facts were in
    failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", run.output, re.M)
    lines = len(run.output.splitlines())
    where = f"engine stopped {when} ({moment}, seed {SEED}; {'checks running' if checking else 'facts gathering'})"
    print(f"{moment}: {where}: exit {run.rc}, {len(failures)} failure(s), {lines} lines, {run.seconds:.1f}s")
    assert run.stopped_at is not None, f"{where}: the gate ended before the engine was stopped"
    if f"{engine_b.engine.url}: unreachable" in run.output:  # stopped before the run first reached it
        assert run.rc == ExitCode.DAEMON_UNREACHABLE, f"{where}: unreachable at the start, exit {run.rc}"
    elif checking:  # the checks may have all they need: a pass, or the engine's one failure
        assert run.rc in (0, ExitCode.HOST), f"{where}: exit {run.rc}:\n{run.output[-3000:]}"
        assert len(failures) == (run.rc == ExitCode.HOST), f"{where}: exit {run.rc}, failures {failures}"
    else:
        assert run.rc == ExitCode.HOST, f"{where}: exit {run.rc}, expected {int(ExitCode.HOST)}:\n{run.output[-3000:]}"
        assert len(failures) == 1, f"{where}: {len(failures)} failures, expected one: {failures}\n{run.output[-3000:]}"
    if failures:
        message = f"engine local lost: Docker daemon unreachable at {engine_b.engine.url}"
        assert message in run.output, f"{where}: no failure names the engine:\n{run.output[-3000:]}"
        assert "failures: 0 the image's, 1 the host's, 0 the suite's" in run.output, f"{where}:\n{run.output[-2000:]}"
    shown = FORBIDDEN.findall(run.output)
    assert not shown, f"{where}: docker-py/urllib3/requests shown ({sorted(set(shown))}):\n{run.output[-3000:]}"
    assert lines <= 300, f"{where}: {lines} lines of output (at most 300):\n{run.output[:3000]}"
    # The engine back: what the lost session could not remove is a dead session's, and the next
    # run's sweep (dead sessions only) removes all of it.
    dead, left = swept_leftovers(engine_b)
    print(f"{moment}: {dead} resource(s) of the lost session on the engine once back; {len(left)} after the sweep")
    assert not left, f"{where}: left on the engine once it was back and swept: {left}"


def test_an_engine_lost_during_a_benchmark_is_one_failure(
    as_root: None, engine_b: NetnsEngine, untouched: GateRun, tmp_path: Path
) -> None:
    """The CPU benchmark of the cpu variant (its bare-metal rootfs exported from the engine into a
    fresh cache, then the rounds), the engine stopped 5 s in: the benchmarks' fixtures too."""
    if engine_b.proc is None or engine_b.proc.poll() is not None:
        engine_b.start()
    bench = [str(ROOT / "benchmarks" / "test_cpu.py"), "--variant", "cpu", "--bench-rounds", "3"]
    bench += ["--rootfs-cache", str(tmp_path / "rootfs"), "-k", "container_seconds"]
    run = gate(engine_b, tmp_path, 5.0, target=bench)
    where = f"engine stopped {run.stopped_at or 0:.1f}s into the CPU benchmark of cpu"
    failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", run.output, re.M)
    lines = len(run.output.splitlines())
    print(f"benchmark: {where}: exit {run.rc}, {len(failures)} failure(s), {lines} lines, {run.seconds:.1f}s")
    assert run.stopped_at is not None, f"the benchmark ended within 5 s:\n{run.output[-3000:]}"
    assert run.rc == ExitCode.HOST, f"{where}: exit {run.rc}, expected {int(ExitCode.HOST)}:\n{run.output[-3000:]}"
    assert len(failures) == 1, f"{where}: {len(failures)} failures, expected one: {failures}\n{run.output[-3000:]}"
    assert f"Docker daemon unreachable at {engine_b.engine.url}" in run.output, f"{where}:\n{run.output[-3000:]}"
    shown = FORBIDDEN.findall(run.output)
    assert not shown, f"{where}: docker-py/urllib3/requests shown ({sorted(set(shown))}):\n{run.output[-3000:]}"
    assert lines <= 300, f"{where}: {lines} lines of output (at most 300)"
    _, left = swept_leftovers(engine_b)
    assert not left, f"{where}: left on the engine once it was back and swept: {left}"
