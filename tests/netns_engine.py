"""A dockerd of its own in a network namespace, for the lost-engine self-tests
(tests/test_lost_engine.py): started, stopped (SIGTERM) and started again at will, and a run
of the suite inside the namespace with the engine stopped at a given moment.

The namespace keeps the second dockerd's default bridge and iptables rules (this host's
docker0 is not touched); the runs inside it reach the SSH machines' ports on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import os
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

from paddle_verify.engine import DaemonUnreachable, Engine, connect, leftovers, sweep

from .conftest import REFERENCE, ROOT


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


@dataclass
class GateRun:
    rc: int
    output: str
    seconds: float
    stopped_at: float | None
    at_stop: str = ""  # the run's output when the engine was stopped


def gate(
    box: NetnsEngine,
    cwd: Path,
    stop_after: float | None,
    *,
    once: re.Pattern[str] | None = None,
    target: list[str] | None = None,
) -> GateRun:
    """The full gate of the three cpu variants on the second engine (or ``target``: other paths and
    options); its dockerd stopped (SIGTERM) ``stop_after`` seconds in (or once its output matches
    ``once``), and left stopped until the run ends."""
    argv = [sys.executable, "-m", "pytest", *(target or [str(ROOT / "checks"), "--variant", "all"])]
    argv += ["-p", "no:cacheprovider", "--manifest", str(REFERENCE), "--report-dir", str(cwd / "reports")]
    argv += ["--exec-timeout", "600"]  # this machine is shared and loaded: no probe cut by its deadline
    env = {**os.environ, "DOCKER_HOST": box.engine.url}
    start = time.monotonic()
    out = (cwd / "output.txt").open("w+")
    proc = subprocess.Popen(box.argv(argv), cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    stopped_at, at_stop = None, ""
    try:
        if stop_after is not None:
            try:
                proc.wait(timeout=stop_after)  # the run ended before the moment: nothing stopped
            except subprocess.TimeoutExpired:
                stopped_at = time.monotonic() - start
                at_stop = (cwd / "output.txt").read_text(errors="replace")
                box.stop()
        elif once is not None:
            deadline = start + 900
            while proc.poll() is None and time.monotonic() < deadline:
                at_stop = (cwd / "output.txt").read_text(errors="replace")
                if once.search(at_stop):
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
    return GateRun(rc, output, time.monotonic() - start, stopped_at, at_stop if stopped_at is not None else "")


def swept_leftovers(box: NetnsEngine) -> tuple[int, list[str]]:
    """The engine started again: how many of the suite's resources the lost session left, and what
    is left once the next run's sweep (of dead sessions) has run."""
    box.start()
    with contextlib.closing(connect(engine=box.engine)) as client:
        dead = len(leftovers(client))
        sweep(client, dead_only=True)
        return dead, leftovers(client)
