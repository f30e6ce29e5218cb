"""How a container gets the host's GPUs: the install page's way, or today's.

``seed``: every driver library bind-mounted at its own path and every device node
passed with ``--device`` (the page's ``-v lib:lib`` and ``--device dev:dev``);
``gpus``: ``--gpus all``, a device request the NVIDIA runtime hook serves;
``cdi``: ``--device nvidia.com/gpu=all``, a CDI device the engine resolves through the host's CDI
specs (``nvidia-ctk cdi generate``): Podman's way, through its libpod API (``engine/libpod.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docker.types import DeviceRequest

from .host import HostGpus

MODES = ("seed", "gpus", "cdi")
CDI_ALL_GPUS = "nvidia.com/gpu=all"


@dataclass(frozen=True)
class GpuMapping:
    """How a container gets the host's GPUs: ``docker create`` keyword arguments and what they mean."""

    mode: str
    create_kwargs: dict[str, Any]
    libcuda_paths: tuple[str, ...]  # where libcuda is in the container (seed), for the probe to load
    lib_dirs: tuple[str, ...]
    description: str


def mapping(host: HostGpus, mode: str) -> GpuMapping:
    """``seed``: ``--device dev:dev`` and ``-v lib:lib`` for each; ``gpus``: ``--gpus all``;
    ``cdi``: ``--device nvidia.com/gpu=all``."""
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
    if mode == "cdi":
        return GpuMapping(
            mode="cdi",
            create_kwargs={"cdi_devices": (CDI_ALL_GPUS,)},
            # Where the spec mounts libcuda is the spec's to say: the probe looks for it by name, and
            # in the places the host's driver libraries are (an NVIDIA spec mounts them at their paths).
            libcuda_paths=tuple(host.in_container(p) for p in host.libraries if Path(p).name.startswith("libcuda.so")),
            lib_dirs=tuple(sorted({str(Path(host.in_container(p)).parent) for p in host.libraries})),
            description=f"cdi: --device {CDI_ALL_GPUS} (the host's CDI specs, through Podman's libpod API)",
        )
    raise ValueError(f"unknown GPU mapping mode {mode!r} (valid: {', '.join(MODES)})")


def engine_refuses(mode: str, engine_kind: str) -> str | None:
    """Why an engine of ``engine_kind`` (``docker``/``podman``) cannot serve the mapping ``mode``, or
    None: the GPU-device checks are then not run on that engine, with this reason."""
    if mode == "gpus" and engine_kind == "podman":
        return (
            "--gpu-mode gpus (a DeviceRequest) is ignored by Podman's Docker-compatible API "
            "(podman #22645): use --gpu-mode cdi"
        )
    if mode == "cdi" and engine_kind != "podman":
        return f"--gpu-mode cdi needs Podman's libpod API; this engine is {engine_kind}"
    return None
