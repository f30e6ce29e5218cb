"""Is this GPU host ready for the manifest's gpu variants? Asked without an engine.

:func:`assess` judges a :class:`~.host.HostGpus` (what :func:`~.host.discover` found): its GPUs,
driver, libraries and device nodes; libcuda loaded and its GPUs counted by the GPU probe's own
libcuda step (``inimage/gpu_probe.py``, run here with this host's Python), its UUIDs against the
host's list; and, for each gpu variant, whether the driver runs the CUDA the variant declares
(:func:`.compat.driver_misfit`). ``paddle-verify host`` prints the report; the gate prints the same
lines in its header when GPU checks run. Standard library only (see the package's docstring).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from .. import inimage
from .compat import MIN_DRIVER, cuda_version, driver_misfit, runtime_number
from .host import NO_GPU, HostGpus

if TYPE_CHECKING:
    from ..facts.schema_gpu import Libcuda
    from ..manifest import Variant

PREFIX = "paddle-verify host: "
UNDECLARED = "CUDA not declared in the manifest: driver fit judged when the image is checked"


@dataclass
class Readiness:
    """The report's lines, and every reason the host is not ready (none: ready)."""

    lines: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.reasons

    def say(self, line: str) -> None:
        self.lines.append(PREFIX + line)


def libcuda_names(host: HostGpus) -> list[str]:
    """What the probe tries to load: the host's libcuda files (the soname first), then, on the real
    host only, the soname as a program asks for it (the dynamic linker's search)."""
    files = sorted(
        (str(p) for p in host.libraries if p.name.startswith("libcuda.so")),
        key=lambda p: (not p.endswith(".so.1"), p),
    )
    return files + (["libcuda.so.1", "libcuda.so"] if host.root == Path("/") else [])


def run_probe(host: HostGpus, timeout: float) -> tuple[dict[str, Any] | None, str | None]:
    """The GPU probe run with this host's Python (libcuda, device nodes, ``nvidia-smi -L``; not
    paddle): (its JSON, why there is none)."""
    config = {
        "libcuda_names": libcuda_names(host),
        "lib_dirs": sorted({str(p.parent) for p in host.libraries}),
        "paddle": False,
        "timeout": timeout,
        "env": {},
    }
    argv = inimage.probe_argv(sys.executable, "gpu_probe.py", config)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout + 15, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"the GPU probe did not run: {exc}"
    raw = inimage.read_marked(proc.stdout, inimage.GPU_MARKER)
    if raw is None:
        return None, f"the GPU probe said nothing (exit code {proc.returncode}): {proc.stderr.strip()[-300:]}"
    return raw, None


def run_libcuda_probe(host: HostGpus, timeout: float) -> tuple[Libcuda | None, list[str], str | None]:
    """The probe's libcuda answer, the libcuda files it saw in the usual driver directories, and
    why there is no answer."""
    raw, why = run_probe(host, timeout)
    if raw is None:
        return None, [], why
    child: dict[str, Any] = raw.get("libcuda") or {}
    if not child.get("data"):
        why = child.get("error") or (child.get("stderr") or "").strip()[-300:] or f"exit code {child.get('rc')}"
        return None, raw["libcuda_files"], f"loading libcuda gave no answer: {why}"
    return cast("Libcuda", child["data"]), raw["libcuda_files"], None


def assess(host: HostGpus, variants: Sequence[Variant], *, timeout: float = 30.0) -> Readiness:
    """The host's report and its readiness for every gpu variant of ``variants``."""
    r = Readiness()
    if host.found:
        gpus = "; ".join(f"{g.index}: {g.name or '?'} {g.uuid or '(no UUID)'}" for g in host.gpus)
        r.say(f"GPUs: {host.count} from {host.source} ({gpus})")
    else:
        r.reasons.append(host.absence())
        r.say(f"GPUs: none ({NO_GPU})")
    r.say(f"driver: {host.driver_version or 'version unknown'}")
    if host.found and host.driver_version is None:
        r.reasons.append("the driver's version is unknown (no /proc/driver/nvidia/version, libcuda.so.VERSION or NVML)")
    dirs = sorted({str(p.parent) for p in host.libraries})
    libs = ", ".join(sorted({p.name for p in host.libraries})) or "none"
    r.say(f"driver libraries: {len(host.libraries)} in {', '.join(dirs) or '-'} ({libs})")
    r.say(f"device nodes: {', '.join(str(p) for p in host.devices) or 'none'}")
    _libcuda(r, host, timeout)
    if host.found:
        r.say("looked at: " + "; ".join(host.looked_at))
    _variants(r, host, [v for v in variants if v.flavour == "gpu"])
    if r.ready:
        r.say("READY")
    else:
        r.say(f"NOT READY ({len(r.reasons)} reason(s)):")
        r.lines.extend(f"  - {reason}" for reason in r.reasons)
    return r


def _libcuda(r: Readiness, host: HostGpus, timeout: float) -> None:
    lib, seen, why = run_libcuda_probe(host, timeout)
    elsewhere = sorted(set(seen) - {str(p) for p in host.libraries}) if host.root == Path("/") else []
    if elsewhere:
        r.say(f"libcuda also in: {', '.join(elsewhere)} (not among the driver libraries: add --driver-lib-dir)")
    if lib is None or lib["loaded"] is None:
        tried = "; ".join(lib["tried"]) if lib else why
        missing = f"libcuda missing: no libcuda loads (tried: {tried or 'no libcuda.so* among the driver libraries'})"
        r.say(missing)
        r.reasons.append(missing)
        return
    api = f"driver API CUDA {cuda_version(lib['driver_version'])}" if lib["driver_version"] else "driver API version ?"
    if lib["init"] != 0:
        said = f"libcuda ({lib['loaded']}): cuInit returned {lib['init']}, no GPU counted"
        r.say(f"{said}; {api}")
        r.reasons.append(said)
        return
    said = f"libcuda ({lib['loaded']}): cuInit 0, {lib['count']} GPU(s) ({', '.join(lib['uuids'])}), {api}"
    r.say(said)
    if host.found and lib["count"] != host.count:
        r.reasons.append(f"GPU count mismatch: libcuda counts {lib['count']}, {host.source} {host.count}")
    if host.uuids and sorted(lib["uuids"]) != host.uuids:
        r.reasons.append(
            f"UUID mismatch between libcuda ({', '.join(sorted(lib['uuids'])) or 'none'}) "
            f"and {host.source} ({', '.join(host.uuids)})"
        )


def _variants(r: Readiness, host: HostGpus, gpu_variants: list[Variant]) -> None:
    if not gpu_variants:
        r.say("no gpu variant to judge the driver for (no manifest, or none of its variants is gpu)")
    for v in gpu_variants:
        if v.carries.cuda is None:
            r.say(f"{v.name}: {UNDECLARED}")
            continue
        major = int(v.carries.cuda.split(".")[0])
        if not host.found:
            why = NO_GPU
        elif host.driver_version is None:
            why = f"CUDA {v.carries.cuda}: the driver's version is unknown"
        else:
            why = driver_misfit(runtime_number(v.carries.cuda), host.driver_version) or ""
        if why:
            r.say(f"{v.name} (CUDA {v.carries.cuda}): NOT READY: {why}")
            if why != NO_GPU:
                r.reasons.append(f"{v.name}: {why}")
        else:
            r.say(f"{v.name} (CUDA {v.carries.cuda}): ready (driver {host.driver_version} >= {MIN_DRIVER[major]})")
