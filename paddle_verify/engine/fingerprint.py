"""An engine's fingerprint: the host a failure may depend on, from ``docker info`` and ``docker version``.

Owns: :func:`fingerprint` (gathered once per run per engine), its one-line wording, and which kind of
engine answers (:func:`engine_kind`: Docker, or Podman through its Docker-compatible API).
The GPUs are the caller's to say (this host's discovery for a local engine, "unknown" else).
"""

from __future__ import annotations

from typing import Any

import docker

UNKNOWN = "unknown"


DOCKER = "docker"
PODMAN = "podman"
KIND_NAMES = {DOCKER: "Docker", PODMAN: "Podman"}


def engine_kind(version: dict[str, Any]) -> str:
    """``podman`` when ``/version`` names a Podman component (its compat API answers as Docker does
    otherwise), else ``docker``."""
    components = version.get("Components") or []
    names = [str(c.get("Name", "")) for c in components if isinstance(c, dict)]
    return PODMAN if any("podman" in n.lower() for n in names) else DOCKER


def fingerprint(client: docker.DockerClient, *, gpus: str = UNKNOWN) -> dict[str, Any]:
    """Kernel, OS, the engine's kind and version, runtimes (an NVIDIA one?), cgroup version, CPUs,
    memory, GPUs."""
    info: dict[str, Any] = dict(client.info())
    version: dict[str, Any] = dict(client.version())
    runtimes = sorted(info.get("Runtimes") or {})
    return {
        "engine": engine_kind(version),
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
    """One line: ``Debian GNU/Linux 12, kernel 6.1.0, Docker 20.10.24, cgroup v2, 2 CPUs, 23.5 GiB, ...``
    (``Podman 4.3.1`` for a Podman service; the ``docker`` key is the engine's version either way)."""
    memory = fp.get("memory_bytes")
    mem = f"{memory / 2**30:.1f} GiB" if isinstance(memory, int) else UNKNOWN
    nvidia = "nvidia runtime" if fp.get("nvidia_runtime") else "no nvidia runtime"
    return (
        f"{fp['os']} ({fp['arch']}), kernel {fp['kernel']}, {KIND_NAMES.get(fp.get('engine', DOCKER), 'Docker')} "
        f"{fp['docker']}, cgroup v{fp['cgroup']}, "
        f"{fp['cpus']} CPUs, {mem}, runtimes {', '.join(fp['runtimes']) or 'none'} ({nvidia}); GPUs: {fp['gpus']}"
    )
