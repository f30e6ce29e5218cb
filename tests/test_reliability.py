"""Reliability with a real engine: nothing leaked, every wait bounded, runs that do not disturb each other.

Each inner run carries its own ``--run-label``, so that what it leaves behind
can be told from what other sessions on the same engine are doing.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from paddle_verify.engine import LABEL_RUN, leftovers
from paddle_verify.plugin.outcomes import EXIT_HOST
from paddle_verify.ssh import SSH_DIR

from .conftest import IN_CI, REFERENCE, ROOT, ImageFactory

INTERRUPTED = 2  # pytest's exit code after KeyboardInterrupt
HUNG_LAUNCHER = "RUN printf '#!/bin/sh\\nexec sleep 1000\\n' > /usr/local/bin/paddle"


@dataclass
class Run:
    """An inner run of the suite in its own process (so that it can be signalled)."""

    proc: subprocess.Popen[str]
    label: str
    cwd: Path
    started: float

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        out, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, out

    def summary(self) -> dict[str, object]:
        data: dict[str, object] = json.loads((self.cwd / "reports" / "summary.json").read_text())
        return data

    def outcomes(self) -> dict[str, str]:
        rows = self.summary()["results"]
        assert isinstance(rows, list)
        return {r["nodeid"]: r["outcome"] for r in rows}


Spawn = Callable[..., Run]


@pytest.fixture
def start(tmp_path: Path) -> Generator[Spawn, None, None]:
    runs: list[Run] = []

    def spawn(*args: str, target: str = "checks") -> Run:
        label = f"selftest-{uuid.uuid4().hex[:10]}"
        cwd = tmp_path / label
        cwd.mkdir()
        proc = subprocess.Popen(
            [sys.executable, "-m", "pytest", str(ROOT / target), "-p", "no:cacheprovider", "-q",
             "--run-label", label, *args],
            cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        run = Run(proc, label, cwd, time.monotonic())
        runs.append(run)
        return run

    yield spawn
    for run in runs:
        if run.proc.poll() is None:
            run.proc.kill()
            run.proc.communicate()


def clean_within(client: docker.DockerClient, label: str, seconds: float = 10) -> list[str]:
    """The run's leftovers, polled until there are none or ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    while True:
        left = leftovers(client, run=label)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)  # polling the engine, bounded by the deadline


def wait_for_containers(client: docker.DockerClient, label: str, seconds: float = 60) -> list[str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = leftovers(client, run=label)
        if found:
            return found
        time.sleep(0.1)  # polling the engine, bounded by the deadline
    return []


def wait_for_probe(client: docker.DockerClient, label: str, seconds: float = 60) -> None:
    """Until a check container of the run runs the probe (``python3 -c``), polled with a deadline."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        # sparse: no inspect of each listed container, which a run removing them meanwhile would make a 404
        for c in client.containers.list(
            sparse=True, filters={"label": [f"{LABEL_RUN}={label}", "org.paddle-verify.purpose=check"]}
        ):
            with contextlib.suppress(docker.errors.APIError):
                if any("-c" in " ".join(p) for p in c.top().get("Processes") or []):
                    return
        time.sleep(0.1)  # polling the engine, bounded by the deadline
    raise AssertionError(f"no probe of run {label} was seen running within {seconds:.0f}s")


# --- no leaks -----------------------------------------------------------------------


SIGNAL_TRIALS = 20


@pytest.mark.disruptive
@pytest.mark.parametrize("seed", range(SIGNAL_TRIALS))
def test_interrupted_at_a_random_moment_leaves_nothing(
    seed: int, start: Spawn, docker_client: docker.DockerClient, reference_images: dict[str, str], tmp_path: Path
) -> None:
    rng = random.Random(seed)
    sig = rng.choice([signal.SIGINT, signal.SIGTERM])
    kind = rng.choice(["checks", "checks", "build", "benchmark"])
    args = ["--manifest", str(REFERENCE), "--variant", "all"]
    target = "checks"
    if kind == "build":  # a fresh SSH build context: the run starts with a `docker build`
        ctx = tmp_path / "ssh"
        shutil.copytree(SSH_DIR, ctx)
        with (ctx / "Dockerfile").open("a") as fh:
            fh.write(f"# trial {seed} {uuid.uuid4().hex}\n")
        args += ["--ssh-context", str(ctx)]
    if kind == "benchmark":
        target = "benchmarks/test_cpu.py"
        args = ["--manifest", str(REFERENCE), "--variant", "cpu", "-k", "interp", "--bench-rounds", "40"]
    delay = rng.uniform(0.3, 10.0)
    ssh_images_before = {t for i in docker_client.images.list("paddle-verify/ssh") for t in i.tags}
    run = start(*args, target=target)
    time.sleep(delay)  # the random moment of the interruption
    run.proc.send_signal(sig)
    code, out = run.finish(timeout=120)
    # -signal: stopped before the suite's plugin was even loaded (nothing was created yet).
    assert code in (0, 1, INTERRUPTED, -sig), (
        f"seed {seed}: {kind} run stopped by {sig.name} after {delay:.1f}s exited {code}:\n{out[-2000:]}"
    )
    left = clean_within(docker_client, run.label)
    assert left == [], f"seed {seed}: {kind}, {sig.name} after {delay:.1f}s left {left}"
    if kind == "build":  # the SSH image of this trial's own context: reused by nobody
        for image in docker_client.images.list("paddle-verify/ssh"):
            for tag in set(image.tags) - ssh_images_before:
                docker_client.images.remove(tag, force=True)


@pytest.mark.disruptive
def test_sigkill_leftovers_are_swept_by_the_next_run(
    start: Spawn, docker_client: docker.DockerClient, reference_images: dict[str, str]
) -> None:
    victim = start("--manifest", str(REFERENCE), "--variant", "all", "-m", "not ssh")
    found = wait_for_containers(docker_client, victim.label)
    assert found, "the run created nothing to leave behind"
    victim.proc.kill()
    victim.finish()
    left = leftovers(docker_client, run=victim.label)
    assert left, "SIGKILL left nothing: this test proves nothing"
    nxt = start("--manifest", str(REFERENCE), "--variant", "cpu", "-k", "kernel", "-m", "not ssh")
    code, out = nxt.finish()
    assert code == 0, out[-2000:]
    said = re.search(r"swept (\d+) leftover resource\(s\) of dead sessions", out)
    assert said, out[-2000:]
    swept = int(said.group(1))
    assert swept >= len(left)
    assert leftovers(docker_client, run=victim.label) == []
    assert clean_within(docker_client, nxt.label) == []


def test_two_sessions_at_once_do_not_disturb_each_other(
    start: Spawn, docker_client: docker.DockerClient, reference_images: dict[str, str]
) -> None:
    args = ("--manifest", str(REFERENCE), "--variant", "cpu,cpu-devel")
    first, second = start(*args), start(*args)
    (code1, out1), (code2, out2) = first.finish(timeout=300), second.finish(timeout=300)
    assert code1 == 0, out1[-2000:]
    assert code2 == 0, out2[-2000:]
    assert first.outcomes() == second.outcomes()
    assert clean_within(docker_client, first.label) == []
    assert clean_within(docker_client, second.label) == []


@pytest.mark.soak
def test_xdist_gives_the_serial_outcomes(
    start: Spawn, docker_client: docker.DockerClient, reference_images: dict[str, str]
) -> None:
    args = ("--manifest", str(REFERENCE), "--variant", "all", "-m", "not ssh")
    serial = start(*args)
    code, out = serial.finish(timeout=300)
    assert code == 0, out[-2000:]
    parallel = start(*args, "-n", "2")
    code, out = parallel.finish(timeout=300)
    assert code == 0, out[-2000:]
    assert parallel.outcomes() == serial.outcomes()
    assert clean_within(docker_client, parallel.label) == []


@pytest.mark.soak
def test_thirty_runs_leave_the_engine_as_they_found_it(
    start: Spawn, docker_client: docker.DockerClient, reference_images: dict[str, str]
) -> None:
    def counts() -> tuple[int, int, int]:
        return (
            len(docker_client.containers.list(all=True)),
            len(docker_client.networks.list()),
            len(docker_client.volumes.list()),
        )

    before = counts()
    for i in range(30):
        run = start("--manifest", str(REFERENCE), "--variant", "cpu", "-k", "kernel or shell", "-m", "not ssh")
        code, out = run.finish()
        assert code == 0, f"run {i}: {out[-2000:]}"
    assert counts() == before


# --- bounded --------------------------------------------------------------------------


def test_hung_launcher_fails_its_checks_within_the_deadline(
    build_image: ImageFactory, reference_images: dict[str, str], start: Spawn, docker_client: docker.DockerClient
) -> None:
    hung = build_image("hung-launcher", f"FROM {reference_images['cpu']}\n{HUNG_LAUNCHER}\n")
    run = start("--manifest", str(REFERENCE), "--image", f"cpu={hung}", "--exec-timeout", "5", "-m", "not ssh")
    code, out = run.finish(timeout=120)
    took = time.monotonic() - run.started
    assert code == 1, out[-2000:]
    assert took < 60, f"a hung launcher held the run for {took:.0f}s"
    outcomes = run.outcomes()
    failed = {k.split("::")[1] for k, v in outcomes.items() if v == "failed"}
    assert "test_paddle_version_exits_0_offline[cpu]" in failed
    assert "test_run_it_gives_a_shell[cpu]" in failed
    assert "test_package_imports[cpu-paddle]" not in failed, "the rest of the run must go on"
    rows = run.summary()["results"]
    assert isinstance(rows, list)
    msg = next(r["message"] for r in rows if r["check"] == "test_paddle_version_exits_0_offline")
    assert "no answer within 5" in msg
    assert clean_within(docker_client, run.label) == []


@pytest.mark.disruptive
def test_session_timeout_stops_the_run_and_cleans_up(
    build_image: ImageFactory, reference_images: dict[str, str], start: Spawn, docker_client: docker.DockerClient
) -> None:
    hung = build_image("hung-launcher-2", f"FROM {reference_images['cpu']}\n{HUNG_LAUNCHER}\n")
    run = start("--manifest", str(REFERENCE), "--image", f"cpu={hung}", "--session-timeout", "4", "-m", "not ssh")
    code, out = run.finish(timeout=120)
    took = time.monotonic() - run.started
    assert code == INTERRUPTED, out[-2000:]
    assert took < 30
    assert "STOPPED: the run exceeded --session-timeout=4s" in out
    assert clean_within(docker_client, run.label) == []


# --- containers that die ---------------------------------------------------------------


@pytest.mark.disruptive
def test_container_killed_mid_run_fails_its_checks_and_others_go_on(
    build_image: ImageFactory, reference_images: dict[str, str], start: Spawn, docker_client: docker.DockerClient
) -> None:
    hung = build_image("hung-launcher-3", f"FROM {reference_images['cpu']}\n{HUNG_LAUNCHER}\n")
    run = start(
        "--manifest", str(REFERENCE), "--variant", "cpu,cpu-devel", "--image", f"cpu={hung}",
        "--exec-timeout", "30", "-m", "not ssh",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        for c in docker_client.containers.list(
            sparse=True,
            filters={
                "label": [
                    f"{LABEL_RUN}={run.label}",
                    "org.paddle-verify.purpose=check",
                    "org.paddle-verify.variant=cpu",
                ]
            },
        ):
            victim = c
        time.sleep(0.1)  # polling the engine, bounded by the deadline
    assert victim is not None, "the cpu check container never appeared"
    wait_for_probe(docker_client, run.label)  # its launcher hangs: the probe stays running
    victim.kill()
    code, out = run.finish(timeout=120)
    assert code == 1, out[-2000:]
    rows = run.summary()["results"]
    assert isinstance(rows, list)
    cpu_msgs = [r["message"] for r in rows if r["variant"] == "cpu" and r["check"] == "test_package_imports"]
    assert cpu_msgs
    assert all(
        "the container stopped (exit code 137, OOM killed: False), killed on the host; last log lines" in m
        for m in cpu_msgs
    )
    # the container only slept: killed from outside, it is the host's failure, not the image's
    assert {r["fault"] for r in rows if r["variant"] == "cpu" and r["outcome"] == "failed"} >= {"host"}
    devel = {r["check"]: r["outcome"] for r in rows if r["variant"] == "cpu-devel"}
    # (its paddle has no other variant to be compared with: that one check skips)
    assert set(devel.values()) <= {"passed", "skipped"}, f"the other variant must go on: {devel}"
    assert [c for c, o in devel.items() if o == "skipped"] == ["test_same_paddle_as_the_other_variants"]
    assert clean_within(docker_client, run.label) == []


def test_out_of_memory_is_named(
    reference_images: dict[str, str], start: Spawn, docker_client: docker.DockerClient
) -> None:
    run = start("--manifest", str(REFERENCE), "--variant", "cpu", "--memory", "100m", "-k", "packages", "-m", "not ssh")
    code, out = run.finish()
    assert code == 1, out[-2000:]
    rows = run.summary()["results"]
    assert isinstance(rows, list)
    msgs = [r["message"] for r in rows if r["outcome"] == "failed"]
    assert msgs
    assert all("killed by SIGKILL; OOM killed: the kernel killed" in m for m in msgs), msgs
    # out of memory at the limit the run set (--memory): the image does not fit, its fault
    assert all("out of memory at its --memory limit 100m" in m for m in msgs), msgs
    assert {r["fault"] for r in rows if r["outcome"] == "failed"} == {"image"}
    assert clean_within(docker_client, run.label) == []


# --- the daemon ----------------------------------------------------------------------------


@pytest.mark.skipif(
    not IN_CI and os.environ.get("PADDLE_VERIFY_DISRUPTIVE") != "1",
    reason="restarts the Docker daemon: runs in CI, or with PADDLE_VERIFY_DISRUPTIVE=1",
)
@pytest.mark.disruptive
def test_daemon_restarted_mid_run_fails_the_affected_checks_and_the_next_run_is_clean(
    build_image: ImageFactory, reference_images: dict[str, str], start: Spawn, docker_client: docker.DockerClient
) -> None:
    hung = build_image("hung-launcher-4", f"FROM {reference_images['cpu']}\n{HUNG_LAUNCHER}\n")
    run = start("--manifest", str(REFERENCE), "--image", f"cpu={hung}", "--exec-timeout", "30", "-m", "not ssh")
    assert wait_for_containers(docker_client, run.label), "the run created nothing"
    wait_for_probe(docker_client, run.label)
    subprocess.run(["pkill", "-x", "dockerd"], check=True)
    deadline = time.monotonic() + 30
    while subprocess.run(["pgrep", "-x", "dockerd"], capture_output=True, check=False).returncode == 0:
        assert time.monotonic() < deadline, "dockerd did not stop"
        time.sleep(0.2)  # waiting for the daemon to exit, bounded
    subprocess.run(["bash", str(ROOT / "scripts" / "ensure-docker.sh")], check=True, timeout=120)
    code, out = run.finish(timeout=180)
    assert code == EXIT_HOST, out[-2000:]  # not 1: the image is not at fault
    rows = run.summary()["results"]
    assert isinstance(rows, list)
    failed = [r for r in rows if r["outcome"] in ("failed", "error")]
    assert any("Docker daemon unreachable at" in r["message"] for r in failed), failed[:5]
    assert {r["fault"] for r in failed} == {"host"}, [(r["check"], r["fault"], r["message"][:80]) for r in failed]
    nxt = start("--manifest", str(REFERENCE), "--variant", "cpu", "-m", "not ssh")
    code, out = nxt.finish(timeout=180)
    assert code == 0, out[-3000:]
    client = docker.from_env()
    assert leftovers(client, run=run.label) == []
    assert clean_within(client, nxt.label) == []
