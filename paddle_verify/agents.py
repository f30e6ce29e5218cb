"""Benchmark agents: the same script, with the same bits, in a container and on bare metal.

*Bare metal* is the image's own filesystem, exported once per image ID into a
cache and entered with ``chroot`` in a private mount namespace (``unshare``),
as root: the same Python, the same paddle, the same libraries; only the
container (namespaces, cgroups, seccomp) differs. Where that is not possible
(not root, no ``unshare``), the host's interpreter is used and the result says so.

An agent answers one JSON request per line (see ``agent_script.py``); the
workload is timed inside the agent, so neither process start-up nor the exec
nor the pipe is in the numbers.
"""

from __future__ import annotations

import contextlib
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from docker.models.containers import Container

from .engine import EngineError, Session, _frames, cid, close_socket, daemon_error

# Mounts what a program in the exported tree needs, then chroots into it. Runs
# under `unshare --mount`, so the mounts vanish with the process. Arguments are
# positional ($1 = root, then the command), never interpolated into the text.
CHROOT_SCRIPT = r"""set -e
root=$1; shift
mount --make-rprivate /
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
exec chroot "$root" "$@"
"""

# The same, with host files (the GPU driver's libraries) bind-mounted at their own paths. The image's
# exported tree (a cache shared by runs) stays untouched: the chroot is an overlay on a private tmpfs.
# $1 = root, $2 = the number of binds, then that many (source, target) pairs, then the command.
BIND_CHROOT_SCRIPT = r"""set -e
root=$1; n=$2; shift 2
mount --make-rprivate /
top="$root.overlay"
mkdir -p "$top"
mount -t tmpfs tmpfs "$top"
mkdir "$top/upper" "$top/work" "$top/merged"
mount -t overlay overlay -o "lowerdir=$root,upperdir=$top/upper,workdir=$top/work" "$top/merged"
root=$top/merged
while [ "$n" -gt 0 ]; do
  src=$1; dst=$2; shift 2; n=$((n - 1))
  mkdir -p "$root$(dirname "$dst")"
  [ -e "$root$dst" ] || : > "$root$dst"
  mount --bind "$src" "$root$dst"
done
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs tmpfs "$root/tmp"
exec chroot "$root" "$@"
"""

CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def script(name: str) -> str:
    return resources.files("paddle_verify").joinpath(name).read_text(encoding="utf-8")


def agent_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The same environment on both sides: single-threaded math, a clean PATH."""
    env = {
        "PATH": CLEAN_PATH,
        "HOME": "/root",
        "LANG": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(extra or {})
    return env


class Agent(Protocol):
    where: str

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]: ...

    def close(self) -> None: ...


class AgentError(EngineError):
    pass


class _LineBuffer:
    def __init__(self) -> None:
        self.buf = b""

    def pop_line(self) -> bytes | None:
        if b"\n" not in self.buf:
            return None
        line, self.buf = self.buf.split(b"\n", 1)
        return line


def _decode(where: str, line: bytes, req: dict[str, Any]) -> dict[str, Any]:
    try:
        reply: dict[str, Any] = json.loads(line)
    except ValueError:
        raise AgentError(f"{where}: agent answered {line[:200]!r} to {req['op']}") from None
    if "error" in reply:
        raise AgentError(f"{where}: {req.get('workload', req['op'])}: {reply['error']}")
    return reply


class ProcessAgent:
    """An agent in a local process (chroot or the host's Python), over pipes."""

    def __init__(self, argv: list[str], env: dict[str, str], where: str) -> None:
        self.where = where
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        self._lines = _LineBuffer()

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        assert self.proc.stdin is not None
        assert self.proc.stdout is not None
        try:
            self.proc.stdin.write(json.dumps(req).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise AgentError(f"{self.where}: agent exited: {self._stderr()}") from None
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as sel:
            sel.register(self.proc.stdout, selectors.EVENT_READ)
            while (line := self._lines.pop_line()) is None:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise AgentError(f"{self.where}: no answer to {req['op']} within {timeout:.0f}s")
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AgentError(f"{self.where}: agent exited: {self._stderr()}")
                self._lines.buf += chunk
        return _decode(self.where, line, req)

    def _stderr(self) -> str:
        with contextlib.suppress(Exception):
            self.proc.kill()
            _, err = self.proc.communicate(timeout=5)
            return err.decode("utf-8", "replace").strip()[-500:]
        return "(no output)"

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.proc.kill()
            self.proc.wait(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


class ExecAgent:
    """An agent in a running container, over one ``docker exec`` with stdin."""

    def __init__(self, session: Session, container: Container, argv: list[str], env: dict[str, str], where: str):
        self.where = where
        api = session.client.api
        try:
            exec_id = api.exec_create(cid(container), argv, stdin=True, stdout=True, stderr=True, environment=env)
            self.sock = api.exec_start(exec_id["Id"], socket=True)
        except Exception as exc:
            raise AgentError(f"{where}: cannot start the agent: {daemon_error(exc)}") from None
        self.raw: Any = getattr(self.sock, "_sock", self.sock)
        self._lines = _LineBuffer()
        self._err = b""

    def request(self, req: dict[str, Any], timeout: float) -> dict[str, Any]:
        try:
            self.raw.sendall(json.dumps(req).encode() + b"\n")
        except OSError as exc:
            raise AgentError(f"{self.where}: agent gone: {exc}; {self._err[-300:]!r}") from None
        deadline = time.monotonic() + timeout
        frames = _frames(self.raw, deadline)
        while (line := self._lines.pop_line()) is None:
            try:
                stream, payload = next(frames)
            except StopIteration:
                raise AgentError(f"{self.where}: agent exited: {self._err.decode(errors='replace')[-500:]}") from None
            except TimeoutError:
                raise AgentError(f"{self.where}: no answer to {req['op']} within {timeout:.0f}s") from None
            if stream == 1:
                self._lines.buf += payload
            else:
                self._err += payload
        return _decode(self.where, line, req)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.raw.sendall(b'{"op": "quit"}\n')
        close_socket(self.sock)


# --- bare metal ---------------------------------------------------------------


@dataclass(frozen=True)
class BareMetal:
    """How the bare-metal side runs: the image's own files (chroot) or the host's Python."""

    mode: str  # "chroot" or "host-python"
    rootfs: Path | None
    note: str


def default_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paddle-verify" / "rootfs"


def can_chroot() -> str | None:
    """None when chroot is possible here, else why not."""
    if os.geteuid() != 0:
        return "not root: chroot needs root"
    for tool in ("unshare", "chroot", "mount"):
        if shutil.which(tool) is None:
            return f"no `{tool}` on this host"
    return None


def export_rootfs(session: Session, image: str, cache: Path, *, variant: str) -> Path:
    """The image's filesystem, exported once per image ID and reused."""
    image_id = session.client.images.get(image).id or image
    target = cache / image_id.replace("sha256:", "")[:24]
    if (target / ".paddle-verify-complete").exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    container = session.create_container(image, variant=variant, purpose="export", entrypoint=["true"])
    tmp = Path(tempfile.mkdtemp(prefix=".export-", dir=cache))
    try:
        # The system tar, as root, keeps owners, modes and links exactly as in the image.
        tar = subprocess.Popen(["tar", "-x", "-C", str(tmp), "-f", "-"], stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        assert tar.stdin is not None
        try:
            chunk: bytes
            for chunk in container.export(chunk_size=1 << 20):  # type: ignore[assignment]  # typed as str, yields bytes
                tar.stdin.write(chunk)
        finally:
            tar.stdin.close()
            tar.wait(timeout=600)
            err = b""
            if tar.stderr is not None:
                err = tar.stderr.read()
                tar.stderr.close()
        if tar.returncode != 0:
            raise AgentError(f"{variant}: exporting {image} failed: {err.decode(errors='replace')[-300:]}")
        (tmp / ".paddle-verify-complete").write_text(image_id + "\n")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        session.remove(cid(container))
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def bare_metal(session: Session, image: str, cache: Path, *, variant: str) -> BareMetal:
    why_not = can_chroot()
    if why_not:
        return BareMetal("host-python", None, f"host's Python {sys.version.split()[0]}, not the image's ({why_not})")
    rootfs = export_rootfs(session, image, cache, variant=variant)
    return BareMetal("chroot", rootfs, f"chroot into the image's own files ({rootfs})")


def start_bare_agent(
    bare: BareMetal,
    python: str,
    script_name: str,
    args: list[str],
    env: dict[str, str],
    cpu: str | None = None,
    binds: Sequence[tuple[str, str]] = (),
) -> ProcessAgent:
    """An agent on bare metal; ``binds``: (host path, path in the chroot) mounted in (chroot only)."""
    source = script(script_name)
    pin = ["taskset", "-c", cpu] if cpu is not None and shutil.which("taskset") else []
    if bare.mode == "chroot" and binds:
        assert bare.rootfs is not None
        pairs = [part for pair in binds for part in pair]
        argv = [
            *pin, "unshare", "--mount", "--", "sh", "-c", BIND_CHROOT_SCRIPT, "sh",
            str(bare.rootfs), str(len(binds)), *pairs, "/usr/bin/env", python, "-c", source, *args,
        ]  # fmt: skip
        return ProcessAgent(argv, env, where="bare metal (chroot)")
    if bare.mode == "chroot":
        assert bare.rootfs is not None
        argv = [
            *pin, "unshare", "--mount", "--", "sh", "-c", CHROOT_SCRIPT, "sh",
            str(bare.rootfs), "/usr/bin/env", python, "-c", source, *args,
        ]  # fmt: skip
        return ProcessAgent(argv, env, where="bare metal (chroot)")
    return ProcessAgent([*pin, sys.executable, "-c", source, *args], env, where="bare metal (host Python)")


def start_container_agent(
    session: Session, container: Container, python: str, script_name: str, args: list[str], env: dict[str, str]
) -> ExecAgent:
    return ExecAgent(session, container, [python, "-c", script(script_name), *args], env, where="container")
