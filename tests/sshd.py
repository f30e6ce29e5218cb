"""An OpenSSH server for the fleet self-tests: the second engine reached as ``ssh://root@127.0.0.1:PORT``.

Owns: a temp dir with the server's config, its host key, a client key the test creates (ed25519)
authorized for root, and a client home (``.ssh/id_ed25519`` and ``known_hosts``) that the suite's
runs get as ``HOME``: the Docker SDK's SSH transport (paramiko) reads its key and the host's key
from there, and ``/root/.ssh`` is not touched. The login's ``DOCKER_HOST`` is the engine's socket
(``SetEnv``), where ``docker system dial-stdio`` (the SDK's remote end) connects.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from .registry import free_port

SSHD = "/usr/sbin/sshd"
PRIVSEP = Path("/run/sshd")  # sshd refuses to start without its privilege separation directory


@dataclass(frozen=True)
class Sshd:
    url: str  # ssh://root@127.0.0.1:PORT
    home: Path  # HOME for the client side (its .ssh)


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "pv-selftest", "-f", str(path)], check=True)
    return path.with_suffix(".pub").read_text().strip()


@contextlib.contextmanager
def sshd(docker_host: str) -> Iterator[Sshd]:
    """sshd on 127.0.0.1 (a free port), root logs in with the test's key and finds ``docker_host``."""
    root = Path(tempfile.mkdtemp(prefix="pv-sshd-"))
    made_privsep = not PRIVSEP.exists()
    proc: subprocess.Popen[bytes] | None = None
    try:
        port = free_port()
        host_key = _keygen(root / "host_ed25519")
        home = root / "home"
        (home / ".ssh").mkdir(parents=True, mode=0o700)
        (root / "authorized_keys").write_text(_keygen(home / ".ssh" / "id_ed25519") + "\n")
        (home / ".ssh" / "known_hosts").write_text(f"[127.0.0.1]:{port} {host_key}\n")
        config = root / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {root / 'host_ed25519'}",
                    f"PidFile {root / 'sshd.pid'}",
                    f"AuthorizedKeysFile {root / 'authorized_keys'}",
                    "AllowUsers root",
                    "PermitRootLogin prohibit-password",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "UsePAM no",
                    "StrictModes no",  # the keys live in a temp dir, not root's home
                    # The SDK's transport opens a channel per connection on one SSH connection: three
                    # variants gathered at once hold more than the default 10 (ChannelException: Connect failed).
                    "MaxSessions 100",
                    f"SetEnv DOCKER_HOST={docker_host}",
                    "",
                ]
            )
        )
        PRIVSEP.mkdir(mode=0o755, exist_ok=True)
        log = (root / "sshd.log").open("wb")
        proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stdout=log, stderr=subprocess.STDOUT)
        log.close()
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not answer: {(root / 'sshd.log').read_text()[-2000:]}")
            time.sleep(0.1)  # sshd's port opens when it is ready; nothing else to wait on
        yield Sshd(f"ssh://root@127.0.0.1:{port}", home)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if made_privsep:
            with contextlib.suppress(OSError):
                PRIVSEP.rmdir()
        shutil.rmtree(root, ignore_errors=True)
