"""An engine's fingerprint: the host a failure may depend on, from ``docker info`` and ``docker version``.

Owns: :func:`fingerprint` (gathered once per run per engine) and its one-line wording.
The GPUs are the caller's to say (this host's discovery for a local engine, "unknown" else).
"""

from __future__ import annotations

from typing import Any

import docker

UNKNOWN = "unknown"


def fingerprint(client: docker.DockerClient, *, gpus: str = UNKNOWN) -> dict[str, Any]:
    """Kernel, OS, Docker version, runtimes (an NVIDIA one?), cgroup version, CPUs, memory, GPUs."""
    info: dict[str, Any] = dict(client.info())
    version: dict[str, Any] = dict(client.version())
    runtimes = sorted(info.get("Runtimes") or {})
    return {
        "kernel": info.get("KernelVersion") or UNKNOWN,
        "os": info.get("OperatingSystem") or UNKNOWN,
        "arch": info.get("Architecture") or UNKNOWN,
        "docker": version.get("Version") or info.get("ServerVersion") or UNKNOWN,
        "api": version.get("ApiVersion") or UNKNOWN,
        "runtimes": runtimes,
        "nvidia_runtime": any("nvidia" in r for r in runtimes),
        "cgroup": info.get("CgroupVersion") or UNKNOWN,
        "cpus": info.get("NCPU"),
        "memory_bytes": info.get("MemTotal"),
        "host": info.get("Name") or UNKNOWN,
        "gpus": gpus,
    }


def describe(fp: dict[str, Any]) -> str:
    """One line: ``Debian GNU/Linux 12, kernel 6.1.0, Docker 20.10.24, cgroup v2, 2 CPUs, 23.5 GiB, ...``."""
    memory = fp.get("memory_bytes")
    mem = f"{memory / 2**30:.1f} GiB" if isinstance(memory, int) else UNKNOWN
    nvidia = "nvidia runtime" if fp.get("nvidia_runtime") else "no nvidia runtime"
    return (
        f"{fp['os']} ({fp['arch']}), kernel {fp['kernel']}, Docker {fp['docker']}, cgroup v{fp['cgroup']}, "
        f"{fp['cpus']} CPUs, {mem}, runtimes {', '.join(fp['runtimes']) or 'none'} ({nvidia}); GPUs: {fp['gpus']}"
    )
