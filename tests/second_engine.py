"""A second Docker engine on this machine for the fleet self-tests, reached as a remote host is.

Owns: a named network namespace joined to this host by a veth pair (a /30 of 10.213.0.0/16
chosen here; no other route: the engine reaches this host and nothing else), the ``dockerd``
in it (its own data-root, exec-root, pidfile, socket; no bridge, no iptables: a ``dockerd
--bridge=none`` outside a namespace of its own deletes the host's ``docker0``), and the relay
that makes the registry ``127.0.0.1:PORT`` in the namespace too. :func:`second_engine` starts
them, gets the images from the registry and removes everything at the end, also on failure.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paddle_verify.engine import DaemonUnreachable, Engine, connect

from .registry import Registry

RELAY = Path(__file__).with_name("relay.py")


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"ip {' '.join(args)}: {done.stderr.strip()}"


@dataclass(frozen=True)
class Netns:
    """A network namespace and the veth pair that joins it to this host (``host_ip`` <-> ``ns_ip``)."""

    name: str
    host_ip: str
    ns_ip: str

    @classmethod
    def create(cls) -> Netns:
        pid = os.getpid()
        used = subprocess.run(["ip", "-o", "-4", "addr", "show"], capture_output=True, text=True, check=True).stdout
        third = next(n for n in [pid % 250, *range(250)] if f"10.213.{n}." not in used)
        net = cls(f"pv-{pid}", f"10.213.{third}.1", f"10.213.{third}.2")
        host_if, ns_if = f"pvh{pid}", f"pvn{pid}"
        _ip("netns", "add", net.name)
        try:
            _ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if)
            _ip("link", "set", ns_if, "netns", net.name)
            _ip("addr", "add", f"{net.host_ip}/30", "dev", host_if)
            _ip("link", "set", host_if, "up")
            for args in (["addr", "add", f"{net.ns_ip}/30", "dev", ns_if], ["link", "set", ns_if, "up"]):
                _ip("-n", net.name, *args)
            _ip("-n", net.name, "link", "set", "lo", "up")
        except BaseException:
            net.remove()
            raise
        return net

    def run(self, argv: list[str]) -> list[str]:
        """``argv`` in the namespace's network (and nothing else of it: the mounts stay this host's)."""
        return ["nsenter", f"--net=/run/netns/{self.name}", *argv]

    def remove(self) -> None:
        """The namespace deleted: its end of the veth goes with it, and so the host's end."""
        subprocess.run(["ip", "netns", "del", self.name], capture_output=True, check=False)


@dataclass
class SecondEngine:
    engine: Engine  # unix:// (the socket, from this host)
    proc: subprocess.Popen[bytes]
    root: Path
    netns: Netns

    def stop(self) -> None:
        """Stop its dockerd (TERM, then KILL after a deadline) and remove everything it had."""
        _stop(self.proc, self.root)


def _stop(proc: subprocess.Popen[bytes], root: Path) -> None:
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


def _started(proc: subprocess.Popen[str], what: str, seconds: float) -> None:
    """Wait for the relay's ``listening`` line, with a deadline."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout=seconds) or proc.stdout.readline().strip() != "listening":
            raise RuntimeError(f"{what} did not start within {seconds:.0f}s (exit code {proc.poll()})")


@contextlib.contextmanager
def second_engine(registry: Registry, repository: str, tags: list[str]) -> Iterator[SecondEngine]:
    """The second engine, holding ``repository:TAG`` for each tag pulled from ``registry`` (and named
    ``REGISTRY/repository:TAG`` too); stopped and removed at the end, also on failure."""
    root = Path(tempfile.mkdtemp(prefix="pv-", dir="/tmp"))  # short: containerd's socket path has a limit
    netns = Netns.create()
    relay: subprocess.Popen[str] | None = None
    proc: subprocess.Popen[bytes] | None = None
    log = (root / "dockerd.log").open("wb")
    try:
        registry.mirror(netns.host_ip)
        argv = [sys.executable, str(RELAY), "127.0.0.1", str(registry.port), netns.host_ip]
        relay = subprocess.Popen(netns.run(argv), stdout=subprocess.PIPE, text=True)
        _started(relay, "the registry relay in the namespace", 30)
        # The registry is 127.0.0.1:PORT there (insecure by default: loopback); its veth address as well.
        (root / "daemon.json").write_text(json.dumps({"insecure-registries": [f"{netns.host_ip}:{registry.port}"]}))
        engine = Engine("b", f"unix://{root}/docker.sock")
        dockerd = [
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
        ]
        proc = subprocess.Popen(netns.run(dockerd), stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while True:
            try:
                connect(engine=engine, timeout=5).close()
                break
            except DaemonUnreachable:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"the second dockerd did not answer: {(root / 'dockerd.log').read_text()[-2000:]}")
                time.sleep(0.2)  # the daemon's socket appears when it is ready; nothing to wait on but it
        # A pull takes a while (minutes on a busy machine): a client with a long timeout.
        with contextlib.closing(connect(engine=engine, timeout=900)) as client:
            for tag in tags:
                image = client.images.pull(f"{registry.host}/{repository}", tag=tag)
                image.tag(repository, tag)
        yield SecondEngine(engine, proc, root, netns)
    finally:
        log.close()
        if proc is not None:
            _stop(proc, root)
        if relay is not None:
            relay.kill()
            relay.wait(timeout=10)
            if relay.stdout is not None:
                relay.stdout.close()
        netns.remove()
        shutil.rmtree(root, ignore_errors=True)
