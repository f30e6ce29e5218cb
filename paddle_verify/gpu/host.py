"""The host's NVIDIA GPUs, as the host shows them (or a test's fake host tree).

:func:`discover` finds the host's GPUs (``nvidia-smi -L``, else NVML, else
  ``/proc/driver/nvidia/gpus``, else ``/dev/nvidiaN``), the driver version, the
  device nodes (``/dev/nvidia*``) and the driver libraries (``libcuda*``,
  ``libnvidia*`` in ``/usr/lib64``, the multiarch directory, or given
  directories). Every path is looked up under ``root`` (``/`` on a real host; a
  directory tree made by the suite's own tests otherwise), and what was looked
  at is kept, so that "no GPU" can say where it looked.
"""

from __future__ import annotations

import os
import platform
import re
import stat
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .nvml import nvml_gpus

NO_GPU = "no NVIDIA GPU on this host"
LIB_PATTERNS = ("libcuda*", "libnvidia*")
SMI_RE = re.compile(r"^GPU (?P<index>\d+): (?P<name>.*?) \(UUID: (?P<uuid>[^)\s]+)\)", re.M)
GPU_NODE_RE = re.compile(r"^nvidia\d+$")


def multiarch_dir() -> str:
    """``usr/lib/x86_64-linux-gnu`` on x86-64 (where Debian and Ubuntu put the driver's libraries)."""
    machine = platform.machine() or "x86_64"
    return f"usr/lib/{machine}-linux-gnu"


@dataclass(frozen=True)
class Gpu:
    index: int
    name: str | None = None
    uuid: str | None = None
    bus: str | None = None


@dataclass(frozen=True)
class HostGpus:
    """What :func:`discover` found on the host (or under a test's root)."""

    root: Path
    gpus: tuple[Gpu, ...]
    source: str | None  # where the GPU list came from: nvidia-smi, NVML, /proc/driver/nvidia, /dev
    driver_version: str | None
    devices: tuple[Path, ...]  # /dev/nvidia* entries: character devices and directories (nvidia-caps)
    libraries: tuple[Path, ...]  # libcuda*, libnvidia* files
    looked_at: tuple[str, ...]  # each place looked at, and what it gave

    @property
    def found(self) -> bool:
        return bool(self.gpus)

    @property
    def count(self) -> int:
        return len(self.gpus)

    @property
    def uuids(self) -> list[str]:
        return sorted(g.uuid for g in self.gpus if g.uuid)

    def in_container(self, path: Path) -> str:
        """Where a host path appears in the container: its own path (relative to ``root``)."""
        try:
            return "/" + str(path.relative_to(self.root)).lstrip("/")
        except ValueError:
            return str(path)

    @property
    def gpu_nodes(self) -> list[str]:
        """Container paths of the nodes a CUDA program needs: ``nvidiactl`` and one ``nvidiaN`` per GPU."""
        names = {"nvidiactl"} | {p.name for p in self.devices if GPU_NODE_RE.match(p.name)}
        return sorted(self.in_container(p) for p in self.devices if p.name in names and _is_char(p))

    def absence(self) -> str:
        return f"{NO_GPU}: looked at " + "; ".join(self.looked_at)

    def describe(self) -> str:
        if not self.found:
            return self.absence()
        names = ", ".join(sorted({g.name or "?" for g in self.gpus}))
        return (
            f"{self.count} GPU(s) ({names}) from {self.source}, driver {self.driver_version or 'unknown'}, "
            f"{len(self.devices)} device node(s), {len(self.libraries)} driver librar(ies)"
        )


def _is_char(path: Path) -> bool:
    try:
        return stat.S_ISCHR(path.stat().st_mode)
    except OSError:
        return False


def _under(root: Path, path: str) -> Path:
    return root / path.lstrip("/")


# --- discovery -----------------------------------------------------------------


def discover(root: Path = Path("/"), *, lib_dirs: Sequence[Path] = (), timeout: float = 30.0) -> HostGpus:
    """The host's NVIDIA GPUs, device nodes and driver libraries, all looked up under ``root``."""
    looked: list[str] = []
    drivers: list[str] = []  # driver versions the GPU sources reported
    devices = _device_nodes(root, looked)
    libraries = _libraries(root, lib_dirs, looked)
    gpus: list[Gpu] = []
    source = None
    finders: list[tuple[str, Callable[[], list[Gpu]]]] = [
        ("nvidia-smi -L", lambda: _smi(root, timeout, looked)),
        ("NVML", lambda: [Gpu(i, n, u) for i, n, u in nvml_gpus(libraries, timeout, looked, drivers)]),
        ("/proc/driver/nvidia/gpus", lambda: _proc(root, looked)),
        ("/dev/nvidiaN", lambda: [Gpu(index=int(p.name[6:])) for p in devices if GPU_NODE_RE.match(p.name)]),
    ]
    for name, finder in finders:
        gpus = finder()
        if gpus:
            source = name
            break
    return HostGpus(
        root=root,
        gpus=tuple(gpus),
        source=source,
        driver_version=_driver_version(root, libraries) or next(iter(drivers), None),
        devices=tuple(devices),
        libraries=tuple(libraries),
        looked_at=tuple(looked),
    )


def _device_nodes(root: Path, looked: list[str]) -> list[Path]:
    found, ignored = [], []
    for path in sorted(_under(root, "/dev").glob("nvidia*")):
        if _is_char(path) or path.is_dir():
            found.append(path)
        else:
            ignored.append(path.name)
    what = ", ".join(p.name for p in found) or "none"
    if ignored:
        what += f" (not character devices, ignored: {', '.join(ignored)})"
    looked.append(f"{_under(root, '/dev')}/nvidia*: {what}")
    return found


def _libraries(root: Path, lib_dirs: Sequence[Path], looked: list[str]) -> list[Path]:
    dirs = [_under(root, "/usr/lib64"), _under(root, multiarch_dir()), *lib_dirs]
    found: list[Path] = []
    for d in dirs:
        for pattern in LIB_PATTERNS:
            for path in sorted(d.glob(pattern)):
                if path.is_file() and path not in found:
                    found.append(path)
    names = sorted({p.name for p in found})
    looked.append(
        f"{', '.join(map(str, dirs))}: {len(names)} driver librar(ies)"
        + (f" ({', '.join(names[:6])}{', ...' if len(names) > 6 else ''})" if names else "")
    )
    return found


def _smi(root: Path, timeout: float, looked: list[str]) -> list[Gpu]:
    dirs = [*os.environ.get("PATH", "").split(os.pathsep), "/usr/bin", "/bin"]
    exe = next((p for d in dirs if d and (p := _under(root, d) / "nvidia-smi").is_file()), None)
    if exe is None:
        looked.append("nvidia-smi -L: no nvidia-smi on PATH")
        return []
    try:
        proc = subprocess.run([str(exe), "-L"], capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        looked.append(f"{exe} -L: {exc}")
        return []
    gpus = [Gpu(index=int(m["index"]), name=m["name"], uuid=m["uuid"]) for m in SMI_RE.finditer(proc.stdout or "")]
    if proc.returncode != 0 or not gpus:
        said = (proc.stdout + proc.stderr).strip().splitlines()
        looked.append(f"{exe} -L: exit code {proc.returncode}, {said[-1][:200] if said else 'no output'}")
        return []
    looked.append(f"{exe} -L: {len(gpus)} GPU(s)")
    return gpus


def _proc(root: Path, looked: list[str]) -> list[Gpu]:
    base = _under(root, "/proc/driver/nvidia/gpus")
    if not base.is_dir():
        looked.append(f"{base}: absent")
        return []
    gpus = []
    for i, info in enumerate(sorted(base.glob("*/information"))):
        fields = dict(
            (k.strip(), v.strip()) for k, _, v in (line.partition(":") for line in info.read_text().splitlines()) if v
        )
        minor = fields.get("Device Minor", "")
        gpus.append(
            Gpu(
                index=int(minor) if minor.isdigit() else i,
                name=fields.get("Model"),
                uuid=fields.get("GPU UUID"),
                bus=info.parent.name,
            )
        )
    looked.append(f"{base}: {len(gpus)} GPU(s)")
    return gpus


def _driver_version(root: Path, libraries: Sequence[Path]) -> str | None:
    version_file = _under(root, "/proc/driver/nvidia/version")
    if version_file.is_file():
        m = re.search(r"Kernel Module\s+(\d[\w.-]*)", version_file.read_text())
        if m:
            return m.group(1)
    for lib in libraries:  # libcuda.so.535.104.05
        m = re.match(r"^libcuda\.so\.(\d+\.\d+(?:\.\d+)?)$", lib.name)
        if m:
            return m.group(1)
    return None
