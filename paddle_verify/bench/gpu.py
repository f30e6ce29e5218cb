"""The GPU comparison: matmul TFLOP/s and a training step, in a container with the GPU mapping
and in a chroot of the image with the host's driver libraries, interleaved like the CPU's."""

from __future__ import annotations

import statistics
from pathlib import Path

from ..engine import Session, cid, require_image
from ..gpu import GpuMapping, HostGpus
from ..manifest import Variant
from .agents import Agent, agent_env, start_container_agent
from .baremetal import BareMetal, bare_metal, start_bare_agent
from .cpu import KEEP_ALIVE, CpuSettings, compare, explain
from .log import BenchLog, Comparison

GPU_WORKLOADS = ("gpu_matmul", "gpu_train")
GPU_MATMUL_N = 4096  # inimage/agent.py: GPU_N
GPU_FLOPS = {"gpu_matmul": 2 * GPU_MATMUL_N**3}  # floating-point operations per unit


def gpu_settings(threshold: float, rounds: int) -> CpuSettings:
    """GPU rounds: longer (launch jitter), no sustained blocks (a GPU wait is not a CPU stall)."""
    return CpuSettings(
        rounds=rounds,
        round_seconds=0.05,
        blocks=0,
        threshold=threshold,
        timeout=300.0,
        workloads=GPU_WORKLOADS,
        clock="wall",
    )


def tflops(workload: str, units: int, seconds: list[float]) -> float | None:
    """Median TFLOP/s of rounds of ``units`` units (None for a workload without a FLOP count)."""
    flops = GPU_FLOPS.get(workload)
    if not flops or not seconds:
        return None
    return round(flops * units / statistics.median(seconds) / 1e12, 2)


def measure_gpu(
    session: Session,
    variant: Variant,
    log: BenchLog,
    cache: Path,
    settings: CpuSettings,
    gpu_mapping: GpuMapping,
    host: HostGpus,
) -> dict[str, Comparison]:
    """Interleaved bare-metal/container rounds of each GPU workload for one gpu variant.

    Bare metal: the image's own files (chroot) with the host's device nodes (``/dev``) and driver
    libraries bind-mounted at their own paths; container: the ``--gpu-mode`` mapping. Both find
    the driver the same way (``LD_LIBRARY_PATH`` names the libraries' directories).
    """
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare: BareMetal = bare_metal(session, image, cache, variant=variant.name)
    lib_dirs = sorted({host.in_container(p.parent) for p in host.libraries})
    env = agent_env({**variant.runtime.env, **({"LD_LIBRARY_PATH": ":".join(lib_dirs)} if lib_dirs else {})})
    binds = [(str(p), host.in_container(p)) for p in host.libraries]
    cpu = str(settings.pin_cpu)
    container = session.create_container(
        image, variant=variant.name, purpose="bench-gpu", network_mode="none", cpuset_cpus=cpu,
        **KEEP_ALIVE, **gpu_mapping.create_kwargs,
    )  # fmt: skip
    session.start_container(container, variant=variant.name)
    agents: list[Agent] = []
    results: dict[str, Comparison] = {}
    try:
        a_agent = start_bare_agent(bare, variant.python, "agent.py", [], env, cpu=cpu, binds=binds)
        agents.append(a_agent)
        b_agent = start_container_agent(session, container, variant.python, "agent.py", [], env)
        agents.append(b_agent)
        a_ctx, b_ctx = a_agent.request({"op": "context"}, 30), b_agent.request({"op": "context"}, 30)
        ctx = explain(a_ctx, b_ctx)
        ctx["bare_metal_mode"] = bare.note + f"; {len(binds)} driver librar(ies) bind-mounted"
        ctx["gpu_mapping"] = gpu_mapping.description
        ctx["gpu_nodes"] = {"bare_metal": a_ctx.get("gpu_nodes"), "container": b_ctx.get("gpu_nodes")}
        ctx["host"] = host.describe()

        def with_tflops(workload: str, comp: Comparison) -> None:
            units = int(comp.context["units_per_round"])
            comp.context = {
                **comp.context,
                "tflops": {"bare metal": tflops(workload, units, comp.a), "container": tflops(workload, units, comp.b)},
            }

        results = compare("gpu", variant, a_agent, b_agent, ctx, settings, log, annotate=with_tflops)
    finally:
        for agent in agents:
            agent.close()
        session.remove(cid(container))
    return results
