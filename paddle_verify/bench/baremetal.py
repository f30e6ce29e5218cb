"""Bare metal for the benchmarks: the image's own filesystem, exported once per image ID into a
cache and entered with ``chroot`` in a private mount namespace (``unshare``), as root: the
same Python, the same paddle, the same libraries; only the container (namespaces, cgroups,
seccomp) differs. Where that is not possible (not root, no ``unshare``), the host's
interpreter is used and the result says so.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from .. import inimage
from ..engine import Session, cid
from .agents import AgentError, ProcessAgent

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
    source = inimage.source(script_name)
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
