"""GPU variants: the host's GPUs (host), how a container gets them (mapping), what a container
then sees (facts), and whether the host is ready for the gpu variants (readiness).

The host side (host, nvml, compat, readiness) needs the standard library alone: ``paddle-verify
host`` runs on a bare GPU host with the package on ``PYTHONPATH``. The engine side (facts,
mapping) needs docker-py; where that is not installed, only the host side is exported.
"""

from .host import NO_GPU, Gpu, HostGpus, discover

try:
    from .facts import GpuCheck, GpuFacts, gather, smi_uuids
    from .mapping import MODES, GpuMapping, engine_refuses, mapping
except ModuleNotFoundError as exc:  # a third-party dependency of the engine side, never one of ours
    if (exc.name or "paddle_verify").split(".")[0] == "paddle_verify":
        raise

__all__ = [
    "MODES",
    "NO_GPU",
    "Gpu",
    "GpuCheck",
    "GpuFacts",
    "GpuMapping",
    "HostGpus",
    "discover",
    "engine_refuses",
    "gather",
    "mapping",
    "smi_uuids",
]
