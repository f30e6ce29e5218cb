"""GPU variants: the host's GPUs (host), how a container gets them (mapping), and what a
container then sees (facts)."""

from .facts import GpuCheck, GpuFacts, gather, smi_uuids
from .host import NO_GPU, Gpu, HostGpus, discover
from .mapping import MODES, GpuMapping, mapping

__all__ = [
    "MODES",
    "NO_GPU",
    "Gpu",
    "GpuCheck",
    "GpuFacts",
    "GpuMapping",
    "HostGpus",
    "discover",
    "gather",
    "mapping",
    "smi_uuids",
]
