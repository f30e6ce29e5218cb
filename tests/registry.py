"""A real image registry for the fleet self-tests: Debian's ``docker-registry`` (the CNCF
distribution registry), started on loopback with its own config and storage under a temp dir.

Owns: the registry's processes (one per listening address: loopback for this host's engine,
the veth's host end for the second engine), its storage, and the tags it re-points. Stopped and
its directory removed by :meth:`Registry.close`, also when a start fails.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

import requests

BINARY = "/usr/bin/docker-registry"
MANIFEST_TYPES = (
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.oci.image.index.v1+json",
)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on at ``host`` now."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class Registry:
    """``docker-registry serve CONFIG`` on ``127.0.0.1:PORT``; :meth:`listen` adds an address."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.host = f"127.0.0.1:{self.port}"  # how the images are named: REGISTRY/paddle-verify/...
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.storage = root / "storage"
        self.storage.mkdir(parents=True)
        self.listen("127.0.0.1", self.storage)

    def listen(self, address: str, storage: Path) -> None:
        """One more process on ``address:PORT`` serving ``storage``; returns once it answers."""
        addr = f"{address}:{self.port}"
        config = self.root / f"config-{address}.yml"
        config.write_text(
            "version: 0.1\n"
            "log: {level: warn, accesslog: {disabled: true}}\n"
            f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
            f"http: {{addr: '{addr}', secret: paddle-verify-selftest}}\n"
        )
        log = (self.root / f"registry-{address}.log").open("wb")
        self.procs[address] = subprocess.Popen([BINARY, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(f"http://{addr}/v2/", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if self.procs[address].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"registry on {addr} did not answer: {self.log(address)}")
            time.sleep(0.1)  # the registry's port opens when it is ready; nothing else to wait on

    def mirror(self, address: str) -> Path:
        """A second listener on ``address`` over a copy of the storage (blobs hard-linked: they
        never change; the tags copied): what is pushed later is not in it, a tag re-pointed in
        it is re-pointed for whoever pulls through ``address`` only."""
        copy = self.root / f"storage-{address}"
        v2 = Path("docker/registry/v2")
        (copy / v2).mkdir(parents=True)
        subprocess.run(["cp", "-al", str(self.storage / v2 / "blobs"), str(copy / v2)], check=True)
        shutil.copytree(self.storage / v2 / "repositories", copy / v2 / "repositories", symlinks=True)
        self.listen(address, copy)
        return copy

    def repoint(self, address: str, repository: str, tag: str, to: str) -> str:
        """Re-point ``tag`` at the manifest ``to`` (a tag or a digest of the same repository) in the
        registry at ``address``, through its API, as a push of another image under the tag would;
        the tag's new digest."""
        url = f"http://{address}:{self.port}/v2/{repository}/manifests"
        got = requests.get(f"{url}/{to}", headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=30)
        got.raise_for_status()
        put = requests.put(
            f"{url}/{tag}", data=got.content, headers={"Content-Type": got.headers["Content-Type"]}, timeout=30
        )
        assert put.status_code == 201, f"registry {address}: re-pointing {repository}:{tag} refused: {put.text}"
        return str(put.headers["Docker-Content-Digest"])

    def digest(self, address: str, repository: str, tag: str) -> str:
        """The digest ``repository:tag`` resolves to at ``address``."""
        url = f"http://{address}:{self.port}/v2/{repository}/manifests/{tag}"
        got = requests.head(url, headers={"Accept": ", ".join(MANIFEST_TYPES)}, timeout=30)
        got.raise_for_status()
        return str(got.headers["Docker-Content-Digest"])

    def log(self, address: str) -> str:
        path = self.root / f"registry-{address}.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def close(self) -> None:
        """Every listener stopped (TERM, KILL after a deadline), the directory removed."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        shutil.rmtree(self.root, ignore_errors=True)
