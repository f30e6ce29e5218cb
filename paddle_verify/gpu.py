"""GPU variants: the host's NVIDIA GPUs, how a container gets them, and what it then sees.

* :func:`discover` finds the host's GPUs (``nvidia-smi -L``, else NVML, else
  ``/proc/driver/nvidia/gpus``, else ``/dev/nvidiaN``), the driver version, the
  device nodes (``/dev/nvidia*``) and the driver libraries (``libcuda*``,
  ``libnvidia*`` in ``/usr/lib64``, the multiarch directory, or given
  directories). Every path is looked up under ``root`` (``/`` on a real host; a
  directory tree made by the suite's own tests otherwise), and what was looked
  at is kept, so that "no GPU" can say where it looked.
* :func:`mapping` turns that into ``docker create`` keyword arguments, in one of
  two modes: ``seed``, the install page's way (every driver library bind-mounted
  at its own path, every device node passed with ``--device``), or ``gpus``,
  today's way (``--gpus all``: a device request the NVIDIA runtime hook serves).
* :func:`gather` starts a container with a mapping (or uses one started the
  default way) and runs **one** exec of ``gpu_probe_script.py`` in it: device
  nodes, libcuda through ctypes, ``nvidia-smi -L``, paddle's GPU count and a
  matmul on GPU 0 against the CPU.
"""

from __future__ import annotations

import json
import os
import platform
import re
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker.errors
from docker.types import DeviceRequest

from .engine import EngineError, Session, cid, container_state, daemon_error, exec_bounded
from .facts import KEEP_ALIVE, FactMissing, in_image_script
from .manifest import Variant

MODES = ("seed", "gpus")
NO_GPU = "no NVIDIA GPU on this host"
MARKER = "PADDLE_VERIFY_GPU="
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
        ("NVML", lambda: _nvml(libraries, timeout, looked, drivers)),
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


NVML_SCRIPT = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
out = {"init": lib.nvmlInit_v2(), "gpus": [], "driver": None}
if out["init"] == 0:
    buf = ctypes.create_string_buffer(96)
    if lib.nvmlSystemGetDriverVersion(buf, 96) == 0:
        out["driver"] = buf.value.decode()
    n = ctypes.c_uint(0)
    if lib.nvmlDeviceGetCount_v2(ctypes.byref(n)) == 0:
        for i in range(n.value):
            h = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) != 0:
                continue
            uuid, name = ctypes.create_string_buffer(96), ctypes.create_string_buffer(96)
            lib.nvmlDeviceGetUUID(h, uuid, 96)
            lib.nvmlDeviceGetName(h, name, 96)
            out["gpus"].append({"index": i, "uuid": uuid.value.decode(), "name": name.value.decode()})
    lib.nvmlShutdown()
print(json.dumps(out))
"""


def _nvml(libraries: Sequence[Path], timeout: float, looked: list[str], drivers: list[str]) -> list[Gpu]:
    lib = next((p for p in libraries if p.name == "libnvidia-ml.so.1"), None)
    if lib is None:
        looked.append("NVML: no libnvidia-ml.so.1 among the driver libraries")
        return []
    # In a child process: a broken driver may hang or crash whoever loads it.
    try:
        proc = subprocess.run(
            [sys.executable, "-c", NVML_SCRIPT, str(lib)], capture_output=True, text=True, timeout=timeout, check=False
        )
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        looked.append(f"NVML ({lib}): {exc}")
        return []
    if data["init"] != 0 or not data["gpus"]:
        looked.append(f"NVML ({lib}): nvmlInit {data['init']}, {len(data['gpus'])} GPU(s)")
        return []
    looked.append(f"NVML ({lib}): {len(data['gpus'])} GPU(s)")
    if data["driver"]:
        drivers.append(str(data["driver"]))
    return [Gpu(index=g["index"], name=g["name"], uuid=g["uuid"]) for g in data["gpus"]]


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


# --- mapping -------------------------------------------------------------------


@dataclass(frozen=True)
class GpuMapping:
    """How a container gets the host's GPUs: ``docker create`` keyword arguments and what they mean."""

    mode: str
    create_kwargs: dict[str, Any]
    libcuda_paths: tuple[str, ...]  # where libcuda is in the container (seed), for the probe to load
    lib_dirs: tuple[str, ...]
    description: str


def mapping(host: HostGpus, mode: str) -> GpuMapping:
    """``seed``: ``--device dev:dev`` and ``-v lib:lib`` for each; ``gpus``: ``--gpus all``."""
    if mode == "seed":
        devices = [f"{p}:{host.in_container(p)}:rwm" for p in host.devices]
        # Read-only: the install page mounted them read-write; an image has no business writing the driver.
        volumes = [f"{p}:{host.in_container(p)}:ro" for p in host.libraries]
        inside = [host.in_container(p) for p in host.libraries]
        return GpuMapping(
            mode="seed",
            create_kwargs={"devices": devices, "volumes": volumes},
            # The driver's soname first: what a program asking for libcuda.so.1 gets.
            libcuda_paths=tuple(
                sorted(
                    (p for p in inside if Path(p).name.startswith("libcuda.so")),
                    key=lambda p: (not p.endswith(".so.1"), p),
                )
            ),
            lib_dirs=tuple(sorted({str(Path(p).parent) for p in inside})),
            description=(
                f"seed: {len(devices)} --device ({', '.join(host.in_container(p) for p in host.devices) or 'none'}), "
                f"{len(volumes)} -v driver librar(ies) at their own paths"
            ),
        )
    if mode == "gpus":
        return GpuMapping(
            mode="gpus",
            create_kwargs={"device_requests": [DeviceRequest(count=-1, capabilities=[["gpu"]])]},
            libcuda_paths=(),
            lib_dirs=(),
            description="gpus: --gpus all (a device request served by the NVIDIA container runtime)",
        )
    raise ValueError(f"unknown GPU mapping mode {mode!r} (valid: {', '.join(MODES)})")


# --- in the container ------------------------------------------------------------


def probe_source() -> str:
    return in_image_script("gpu_probe_script.py")


def probe_config(variant: Variant, gpu_mapping: GpuMapping | None, timeout: float) -> dict[str, Any]:
    """The probe's input: where to look for libcuda, and whether to ask paddle (gpu variants)."""
    extra = gpu_mapping.libcuda_paths if gpu_mapping else ()
    return {
        "libcuda_names": ["libcuda.so.1", "libcuda.so", *extra],
        "lib_dirs": list(gpu_mapping.lib_dirs) if gpu_mapping else [],
        "paddle": gpu_mapping is not None,
        "timeout": timeout,
        "env": dict(variant.runtime.env),
    }


@dataclass
class GpuFacts:
    """What one container of a variant sees of the GPUs; ``mode`` None: started the default way."""

    variant: Variant
    mode: str | None
    description: str = "default (no GPU asked for)"
    raw: dict[str, Any] | None = None
    error: str | None = None
    container_id: str | None = None
    seconds: float = 0.0
    execs: int = 0

    @property
    def name(self) -> str:
        return self.variant.name

    @property
    def probe(self) -> dict[str, Any]:
        if self.raw is None:
            raise FactMissing(f"{self.name}: no GPU facts from the container ({self.description}): {self.error}")
        return self.raw

    def step(self, key: str) -> Any:
        value = self.probe.get(key)
        if isinstance(value, dict) and set(value) == {"error"}:
            raise FactMissing(f"{self.name}: {value['error']}")
        return value

    def child(self, key: str, what: str) -> dict[str, Any]:
        """The JSON a probe child printed (libcuda, paddle), or a missing fact naming why."""
        res = self.step(key)
        if not res:
            raise FactMissing(f"{self.name}: {what} was not probed")
        data = res.get("data")
        if not data:
            why = res.get("error") or (res.get("stderr") or "").strip()[-400:] or f"exit code {res.get('rc')}"
            raise FactMissing(f"{self.name}: {what} in {self.variant.python} gave no answer: {why}")
        return dict(data)

    @property
    def libcuda(self) -> dict[str, Any]:
        return self.child("libcuda", "loading libcuda (ctypes)")

    @property
    def paddle(self) -> dict[str, Any]:
        return self.child("paddle", "paddle's GPU probe")

    @property
    def device_nodes(self) -> list[dict[str, Any]]:
        return list(self.probe["device_nodes"])

    @property
    def nvidia_smi(self) -> dict[str, Any] | None:
        """``nvidia-smi -L`` in the container; None when the container has no nvidia-smi."""
        value = self.step("nvidia_smi")
        return dict(value) if value else None


def smi_uuids(output: str) -> list[str]:
    return sorted(m["uuid"] for m in SMI_RE.finditer(output))


def probe_deadline(timeout: float) -> float:
    """The probe's children run side by side, each bounded by ``timeout``."""
    return 2 * timeout + 15


def gather(
    session: Session,
    variant: Variant,
    gpu_mapping: GpuMapping | None,
    *,
    timeout: float,
    container_id: str | None = None,
) -> GpuFacts:
    """Start a container of ``variant`` with ``gpu_mapping`` (or use ``container_id``, started the
    default way) and run the GPU probe in it, in one exec. Never raises for the engine's errors:
    they are the facts' ``error``."""
    start = time.monotonic()
    facts = GpuFacts(
        variant=variant,
        mode=gpu_mapping.mode if gpu_mapping else None,
        description=gpu_mapping.description if gpu_mapping else "started the default way, no GPU asked for",
        container_id=container_id,
    )
    try:
        if container_id is None:
            assert gpu_mapping is not None, "a container of its own needs a mapping"
            container = session.create_container(
                variant.image,
                variant=variant.name,
                purpose=f"gpu-{gpu_mapping.mode}",
                entrypoint=KEEP_ALIVE[:1],
                command=KEEP_ALIVE[1:],
                network_mode="none",
                environment=dict(variant.runtime.env),
                **gpu_mapping.create_kwargs,
            )
            session.start_container(container, variant=variant.name)
            facts.container_id = cid(container)
        _probe(session, facts, gpu_mapping, timeout)
    except EngineError as exc:
        facts.error = str(exc)
    except docker.errors.APIError as exc:
        facts.error = f"{variant.name}: exec in the container failed: {daemon_error(exc)}"
    facts.seconds = time.monotonic() - start
    return facts


def _probe(session: Session, facts: GpuFacts, gpu_mapping: GpuMapping | None, timeout: float) -> None:
    variant = facts.variant
    assert facts.container_id is not None
    config = probe_config(variant, gpu_mapping, timeout)
    argv = [variant.python, "-c", probe_source(), json.dumps(config)]
    result = exec_bounded(session.client, facts.container_id, argv, timeout=probe_deadline(timeout), env=config["env"])
    facts.execs += 1
    for line in result.stdout.splitlines():
        if line.startswith(MARKER):
            facts.raw = json.loads(line[len(MARKER) :])
            return
    if result.timed_out:
        facts.error = f"the GPU probe did not finish within {result.seconds:.0f}s"
        return
    container = session.client.containers.get(facts.container_id)
    state = container_state(container)
    if state["status"] != "running":
        facts.error = f"the container stopped (exit code {state['exit_code']}): {state['logs'].strip()[-300:]}"
    else:
        facts.error = f"exit code {result.rc}: {(result.stderr or result.stdout).strip()[-500:]}"
