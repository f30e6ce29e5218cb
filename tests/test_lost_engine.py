"""A lost engine is one failure wherever it strikes: the full gate of the three cpu variants (SSH
included) against a second dockerd of this module's own, stopped at seeded random moments.

The second dockerd runs in a network namespace of its own (its default bridge and iptables
rules stay there; this host's docker0 is not touched) with its own data-root, exec-root,
pidfile and unix socket; the cpu reference images and their SSH images are copied into it
once (``docker save | docker load``). The inner runs run in that namespace too, so that the
SSH machines' ports on 127.0.0.1 are theirs. The main engine is never stopped.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from paddle_verify import ssh
from paddle_verify.engine import DaemonUnreachable, Engine, Session, connect, leftovers, sweep
from paddle_verify.exits import ExitCode

from .conftest import REFERENCE, ROOT, prerequisite

pytestmark = pytest.mark.disruptive
FORBIDDEN = re.compile(r"Traceback|urllib3|requests\.exceptions|docker\.errors")
SEED = int(os.environ.get("PADDLE_VERIFY_SEED", "22"))  # read when the test runs: the moments' seed


@dataclass
class NetnsEngine:
    """A dockerd in a network namespace of its own; stopped (SIGTERM) and started again at will."""

    netns: str
    root: Path
    engine: Engine
    proc: subprocess.Popen[bytes] | None = None

    def argv(self, argv: list[str]) -> list[str]:
        return ["nsenter", f"--net=/run/netns/{self.netns}", *argv]

    def start(self) -> None:
        log = (self.root / "dockerd.log").open("ab")
        dockerd = [
            "dockerd",
            f"--data-root={self.root}/data",
            f"--exec-root={self.root}/exec",
            f"--pidfile={self.root}/docker.pid",
            f"--host={self.engine.url}",
            "--storage-driver=overlay2",
        ]
        self.proc = subprocess.Popen(self.argv(dockerd), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 120
        while True:
            try:
                connect(engine=self.engine, timeout=5).close()
                return
            except DaemonUnreachable:
                log_text = (self.root / "dockerd.log").read_text(errors="replace")[-2000:]
                assert self.proc.poll() is None, f"the second dockerd exited: {log_text}"
                assert time.monotonic() < deadline, f"the second dockerd did not answer within 120s: {log_text}"
                time.sleep(0.2)  # its socket appears when it is ready: nothing else to wait on

    def stop(self) -> None:
        """SIGTERM, as `systemctl stop docker` does; SIGKILL after 60 s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


@contextlib.contextmanager
def netns_engine() -> Iterator[NetnsEngine]:
    name = f"pv-lost-{os.getpid()}"
    root = Path(tempfile.mkdtemp(prefix="pv-lost-", dir="/tmp"))  # short: containerd's socket path
    subprocess.run(["ip", "netns", "add", name], check=True, capture_output=True)
    box = NetnsEngine(name, root, Engine("lost", f"unix://{root}/docker.sock"))
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True, capture_output=True)
        box.start()
        yield box
    finally:
        box.stop()
        for line in reversed(Path("/proc/mounts").read_text().splitlines()):
            if line.split()[1].startswith(f"{root}/"):
                subprocess.run(["umount", "-l", line.split()[1]], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", name], check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


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


@dataclass
class GateRun:
    rc: int
    output: str
    seconds: float
    stopped_at: float | None


def gate(box: NetnsEngine, cwd: Path, stop_after: float | None, *, once: re.Pattern[str] | None = None) -> GateRun:
    """The full gate of the three cpu variants on the second engine; its dockerd stopped (SIGTERM)
    ``stop_after`` seconds in (or once its output matches ``once``), and left stopped until the run ends."""
    argv = [sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider"]
    argv += ["--manifest", str(REFERENCE), "--variant", "all", "--report-dir", str(cwd / "reports")]
    argv += ["--exec-timeout", "600"]  # this machine is shared and loaded: no probe cut by its deadline
    env = {**os.environ, "DOCKER_HOST": box.engine.url}
    start = time.monotonic()
    out = (cwd / "output.txt").open("w+")
    proc = subprocess.Popen(box.argv(argv), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    stopped_at = None
    try:
        if stop_after is not None:
            try:
                proc.wait(timeout=stop_after)  # the run ended before the moment: nothing stopped
            except subprocess.TimeoutExpired:
                stopped_at = time.monotonic() - start
                box.stop()
        elif once is not None:
            deadline = start + 900
            while proc.poll() is None and time.monotonic() < deadline:
                if once.search((cwd / "output.txt").read_text(errors="replace")):
                    stopped_at = time.monotonic() - start
                    box.stop()
                    break
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.2)  # the output is a file: looked at again, bounded by the deadline
        rc = proc.wait(timeout=900)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out.seek(0)
    output = out.read()
    out.close()
    return GateRun(rc, output, time.monotonic() - start, stopped_at)


@pytest.fixture(scope="module")
def untouched(engine_b: NetnsEngine, tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The gate on the second engine, not stopped: it passes, and its length places the moments."""
    run = gate(engine_b, tmp_path_factory.mktemp("untouched"), None)
    assert run.rc == 0, f"the gate on the second engine failed before anything was stopped:\n{run.output[-3000:]}"
    return run


# Three moments, as fractions of the untouched gate's length: early, mid-run (SSH), near the end.
MOMENTS = {"early": (0.12, 0.25), "during-ssh": (0.4, 0.6), "near-the-end": (0.7, 0.85)}


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_lost_engine_is_one_failure_wherever_it_strikes(
    moment: str, as_root: None, engine_b: NetnsEngine, untouched: GateRun, tmp_path: Path
) -> None:
    low, high = MOMENTS[moment]
    stop_after = random.Random(f"{SEED}-{moment}").uniform(low, high) * untouched.seconds
    if engine_b.proc is None or engine_b.proc.poll() is not None:
        engine_b.start()  # a previous moment's stop (its test failed before the restart)
    run = gate(engine_b, tmp_path, stop_after)
    where = f"engine stopped {run.stopped_at or 0:.1f}s into a {untouched.seconds:.0f}s gate ({moment}, seed {SEED})"
    print(f"{moment}: {where}: exit {run.rc}, {len(run.output.splitlines())} lines, {run.seconds:.1f}s")
    assert run.stopped_at is not None, f"{where}: the gate ended before the engine was stopped"
    assert run.rc == ExitCode.HOST, f"{where}: exit {run.rc}, expected {int(ExitCode.HOST)}:\n{run.output[-3000:]}"
    failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", run.output, re.M)
    assert len(failures) == 1, f"{where}: {len(failures)} failures, expected one: {failures}\n{run.output[-3000:]}"
    message = f"Docker daemon unreachable at {engine_b.engine.url}"
    assert f"engine local lost: {message}" in run.output, f"{where}: no failure names the engine:\n{run.output[-3000:]}"
    assert "failures: 0 the image's, 1 the host's, 0 the suite's" in run.output, f"{where}:\n{run.output[-2000:]}"
    shown = FORBIDDEN.findall(run.output)
    assert not shown, f"{where}: docker-py/urllib3/requests shown ({sorted(set(shown))}):\n{run.output[-3000:]}"
    lines = len(run.output.splitlines())
    assert lines <= 300, f"{where}: {lines} lines of output (at most 300):\n{run.output[:3000]}"
    # The engine back: what the lost session could not remove is a dead session's, and the next
    # run's sweep (dead sessions only) removes all of it.
    engine_b.start()
    with contextlib.closing(connect(engine=engine_b.engine)) as client:
        dead = leftovers(client)
        sweep(client, dead_only=True)
        left = leftovers(client)
    print(f"{moment}: {len(dead)} resource(s) of the lost session on the engine once back; {len(left)} after the sweep")
    assert not left, f"{where}: left on the engine once it was back and swept: {left}"


# The checks reading facts already gathered: past the progress mark of checks/test_launcher.py.
CHECKING = re.compile(r"^checks/test_launcher\.py .*\[\s*\d+%\]$", re.M)


def test_an_engine_lost_while_the_checks_read_gathered_facts_is_at_most_one_failure(
    as_root: None, engine_b: NetnsEngine, untouched: GateRun, tmp_path: Path
) -> None:
    """Late: the checks that need the engine no more pass; any that still needs it (SSH facts not
    yet in, the sessions' teardown) is the engine's one failure, never a traceback or an error per test."""
    if engine_b.proc is None or engine_b.proc.poll() is not None:
        engine_b.start()
    run = gate(engine_b, tmp_path, None, once=CHECKING)
    where = f"engine stopped {run.stopped_at or 0:.1f}s into the gate, while the checks ran"
    failures = re.findall(r"^(?:FAILED|ERROR) (\S+)", run.output, re.M)
    lines = len(run.output.splitlines())
    print(f"checking: {where}: exit {run.rc}, {len(failures)} failure(s), {lines} lines, {run.seconds:.1f}s")
    assert run.stopped_at is not None, f"the gate never reached the checks of test_launcher.py:\n{run.output[-3000:]}"
    assert run.rc in (0, ExitCode.HOST), f"{where}: exit {run.rc}:\n{run.output[-3000:]}"
    assert len(failures) == (run.rc == ExitCode.HOST), f"{where}: exit {run.rc}, failures {failures}"
    shown = FORBIDDEN.findall(run.output)
    assert not shown, f"{where}: docker-py/urllib3/requests shown ({sorted(set(shown))}):\n{run.output[-3000:]}"
    assert lines <= 300, f"{where}: {lines} lines of output (at most 300)"
    engine_b.start()
    with contextlib.closing(connect(engine=engine_b.engine)) as client:
        sweep(client, dead_only=True)
        left = leftovers(client)
    assert not left, f"{where}: left on the engine once it was back and swept: {left}"
