"""GPU variants: the host's GPUs (host), how a container gets them (mapping), and what a
container then sees (facts)."""

from .facts import GpuCheck, GpuFacts, gather, smi_uuids
from .host import NO_GPU, Gpu, HostGpus, discover
from .mapping import MODES, GpuMapping, engine_refuses, mapping

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
