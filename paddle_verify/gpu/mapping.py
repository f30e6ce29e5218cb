"""How a container gets the host's GPUs: the install page's way, or today's.

``seed``: every driver library bind-mounted at its own path and every device node
passed with ``--device`` (the page's ``-v lib:lib`` and ``--device dev:dev``);
``gpus``: ``--gpus all``, a device request the NVIDIA runtime hook serves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.types import DeviceRequest

from .host import HostGpus

MODES = ("seed", "gpus")


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
