"""Running the A/B benchmarks: CPU compute (bare metal vs container) and network paths.

Everything measured here is kept in a :class:`BenchLog`, written at the end of
the session as ``reports/benchmarks.json`` and one SVG plot per group.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import docker.errors

from . import gpu, netbench, svgplot
from .agents import (
    Agent,
    AgentError,
    BareMetal,
    agent_env,
    bare_metal,
    script,
    start_bare_agent,
    start_container_agent,
)
from .engine import EngineError, Session, cid, daemon_error, require_image
from .manifest import Variant
from .stats import Verdict, spread, verdict

CPU_WORKLOADS = ("interp", "matmul", "train")
ROUND_SCALE = {"train": 2}
KEEP_ALIVE: dict[str, Any] = {"entrypoint": ["sleep"], "command": ["infinity"]}


@dataclass
class Comparison:
    """One group: the same workload in two places, interleaved."""

    group: str
    variant: str
    kind: str  # "cpu", "gpu" or "network"
    unit: str
    a_name: str
    b_name: str
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    stalls_a: list[tuple[float, float]] = field(default_factory=list)  # (wall, cpu) of sustained blocks
    stalls_b: list[tuple[float, float]] = field(default_factory=list)
    verdict: Verdict | None = None
    gated: bool = True
    context: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out["a_median"] = statistics.median(self.a) if self.a else None
        out["b_median"] = statistics.median(self.b) if self.b else None
        out["a_spread"] = spread(self.a) if self.a else None
        out["b_spread"] = spread(self.b) if self.b else None
        if self.verdict is not None:
            out["verdict"] = {**asdict(self.verdict), "describe": self.verdict.describe(self.a_name, self.b_name)}
        return out


@dataclass
class BenchLog:
    """Every comparison of the session; written to the report directory at the end."""

    report_dir: Path
    comparisons: dict[str, Comparison] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def add(self, comparison: Comparison) -> Comparison:
        self.comparisons[comparison.group] = comparison
        return comparison

    def write(self) -> list[Path]:
        if not self.comparisons:
            return []
        plots = self.report_dir / "benchmarks"
        plots.mkdir(parents=True, exist_ok=True)
        written = []
        for comp in self.comparisons.values():
            if not (comp.a and comp.b):
                continue
            subtitle = comp.verdict.describe(comp.a_name, comp.b_name) if comp.verdict else ""
            svg = svgplot.distributions(
                comp.group, comp.unit, [(comp.a_name, comp.a), (comp.b_name, comp.b)], subtitle=subtitle[:110]
            )
            path = plots / f"{comp.group.replace(' ', '_').replace('/', '-')}.svg"
            path.write_text(svg, encoding="utf-8")
            written.append(path)
        data = {
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "comparisons": [c.summary() for c in self.comparisons.values()],
            **self.extra,
        }
        out = self.report_dir / "benchmarks.json"
        out.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        return [out, *written]


# --- CPU ------------------------------------------------------------------------


@dataclass
class CpuSettings:
    rounds: int = 120  # interleaved pairs of short rounds (fewer, longer ones for noisy workloads)
    round_seconds: float = 0.03
    blocks: int = 3  # sustained blocks per side
    block_seconds: float = 1.0
    block_warm: float = 0.15  # untimed start of each block: more than one CFS period (100 ms)
    threshold: float = 0.05
    cpus: float | None = None  # a CPU quota on the container (diagnosis, self-tests)
    timeout: float = 120.0
    workloads: tuple[str, ...] = CPU_WORKLOADS
    pin_cpu: int = field(default_factory=lambda: max(os.sched_getaffinity(0)))


def _explain(bare: dict[str, Any], cont: dict[str, Any]) -> dict[str, Any]:
    """The context of both places, and the keys where they differ (what may explain a gap)."""
    keys = ("seccomp", "speculation_store_bypass", "no_new_privs", "cpu_max", "cpuset", "cpus_allowed", "python")
    return {
        "bare_metal": {k: bare.get(k) for k in keys},
        "container": {k: cont.get(k) for k in keys},
        "differs": sorted(k for k in keys if bare.get(k) != cont.get(k)),
    }


def measure_cpu(
    session: Session, variant: Variant, log: BenchLog, cache: Path, settings: CpuSettings
) -> dict[str, Comparison]:
    """Interleaved bare-metal/container rounds of each CPU workload for one variant."""
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare: BareMetal = bare_metal(session, image, cache, variant=variant.name)
    env = agent_env(dict(variant.runtime.env))
    # Both sides on the same CPU: this machine's CPUs differ in speed from moment to moment.
    cpu = str(settings.pin_cpu)
    limits: dict[str, Any] = {"cpuset_cpus": cpu}
    if settings.cpus:
        limits["nano_cpus"] = int(settings.cpus * 1e9)
    container = session.create_container(
        image, variant=variant.name, purpose="bench-cpu", network_mode="none", **KEEP_ALIVE, **limits
    )
    session.start_container(container, variant=variant.name)
    agents: list[Agent] = []
    results: dict[str, Comparison] = {}
    try:
        a_agent = start_bare_agent(bare, variant.python, "agent_script.py", [], env, cpu=cpu)
        agents.append(a_agent)
        b_agent = start_container_agent(session, container, variant.python, "agent_script.py", [], env)
        agents.append(b_agent)
        ctx = _explain(a_agent.request({"op": "context"}, 30), b_agent.request({"op": "context"}, 30))
        ctx["bare_metal_mode"] = bare.note
        ctx["container_limits"] = {"cpus": settings.cpus} if settings.cpus else "none"
        results = _compare("cpu", variant, a_agent, b_agent, ctx, settings, log)
    finally:
        for agent in agents:
            agent.close()
        session.remove(cid(container))
    return results


def _compare(
    kind: str,
    variant: Variant,
    a: Agent,
    b: Agent,
    ctx: dict[str, Any],
    settings: CpuSettings,
    log: BenchLog,
    annotate: Callable[[str, Comparison], None] | None = None,
) -> dict[str, Comparison]:
    """Each workload of ``settings`` in both places, interleaved, with its verdict."""
    results: dict[str, Comparison] = {}
    for workload in settings.workloads:
        comp = log.add(
            Comparison(
                group=f"{kind} {variant.name} {workload}", variant=variant.name, kind=kind,
                unit="seconds per round", a_name="bare metal", b_name="container", context=ctx,
            )
        )  # fmt: skip
        results[workload] = comp
        try:
            _interleave(a, b, workload, comp, settings)
        except AgentError as exc:
            comp.error = str(exc)
            continue
        if annotate is not None:
            annotate(workload, comp)
        comp.verdict = verdict(
            comp.a, comp.b, threshold=settings.threshold, stalls_a=comp.stalls_a, stalls_b=comp.stalls_b
        )
    return results


def _interleave(a: Agent, b: Agent, workload: str, comp: Comparison, s: CpuSettings) -> None:
    for agent in (a, b):
        agent.request({"op": "prepare", "workload": workload}, s.timeout)
    # A training step allocates and frees much; its rounds are noisier, so longer and fewer.
    scale = ROUND_SCALE.get(workload, 1)
    target, rounds = s.round_seconds * scale, max(10, s.rounds // scale)
    # Calibrate on bare metal: units per round so that a round lasts about `target`.
    n = 1
    for _ in range(8):
        took = float(a.request({"op": "round", "workload": workload, "n": n}, s.timeout)["seconds"])
        if took >= target / 4:
            n = max(1, round(n * target / took))
            break
        n *= 4
    comp.context = {**comp.context, "units_per_round": n}
    for agent in (a, b):  # one warm-up round each, not counted
        agent.request({"op": "round", "workload": workload, "n": n}, s.timeout)
    for i in range(rounds):
        order = ((a, comp.a), (b, comp.b)) if i % 2 == 0 else ((b, comp.b), (a, comp.a))  # A B, B A, ...
        for agent, samples in order:
            samples.append(float(agent.request({"op": "round", "workload": workload, "n": n}, s.timeout)["seconds"]))
    sustain = {"op": "sustain", "workload": workload, "n": n, "seconds": s.block_seconds, "warm": s.block_warm}
    for _ in range(s.blocks):
        for agent, blocks in ((a, comp.stalls_a), (b, comp.stalls_b)):
            got = agent.request(sustain, s.timeout)
            blocks.append((float(got["wall"]), float(got["cpu"])))


# --- network --------------------------------------------------------------------


@dataclass
class NetSettings:
    rounds: int = 30
    messages: int = 300
    bulk_seconds: float = 0.1
    threshold: float = 0.05
    timeout: float = 30.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure_network(
    session: Session, variant: Variant, log: BenchLog, cache: Path, settings: NetSettings
) -> list[netbench.PathSamples]:
    """Four paths between this host and servers the benchmark starts, measured in one run."""
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare = bare_metal(session, image, cache, variant=variant.name)
    source = script("netagent_script.py")
    env = agent_env(dict(variant.runtime.env))
    paths: list[netbench.PathSamples] = []
    local = None
    try:
        port = free_port()
        local = start_bare_agent(bare, variant.python, "netagent_script.py", ["127.0.0.1", str(port)], env)
        paths.append(netbench.PathSamples("loopback", ("127.0.0.1", port), f"bare metal, loopback ({bare.mode})"))
        host_port = free_port()
        hostnet = session.create_container(
            image, variant=variant.name, purpose="bench-net-host", network_mode="host", environment=env,
            entrypoint=[variant.python, "-c", source, "127.0.0.1", str(host_port)],
        )  # fmt: skip
        session.start_container(hostnet, variant=variant.name)
        paths.append(netbench.PathSamples("host", ("127.0.0.1", host_port), "container, --net=host"))
        bridged = session.create_container(
            image, variant=variant.name, purpose="bench-net-bridge", environment=env,
            entrypoint=[variant.python, "-c", source, "0.0.0.0", "7000"],
            ports={"7000/tcp": ("127.0.0.1", None)},
        )  # fmt: skip
        session.start_container(bridged, variant=variant.name)
        bridged.reload()
        net = bridged.attrs["NetworkSettings"]
        ip = net.get("IPAddress") or next(iter(net["Networks"].values()))["IPAddress"]
        published = int(net["Ports"]["7000/tcp"][0]["HostPort"])
        paths.append(netbench.PathSamples("bridge", (ip, 7000), f"container, bridge address {ip}"))
        paths.append(
            netbench.PathSamples(
                "published", ("127.0.0.1", published), "container, -p 127.0.0.1:PORT:7000 (docker-proxy)"
            )
        )
        for path in paths:
            netbench.wait_listening(path.address, settings.timeout)
        started = time.monotonic()
        netbench.measure(paths, rounds=settings.rounds, messages=settings.messages, bulk_seconds=settings.bulk_seconds)
        log.extra.setdefault("network_seconds", {})[variant.name] = round(time.monotonic() - started, 2)
    except (OSError, TimeoutError, docker.errors.APIError) as exc:
        raise EngineError(f"{variant.name}: network benchmark: {daemon_error(exc)}") from None
    finally:
        if local is not None:
            local.close()
    base = paths[0]
    for path in paths[1:]:
        ctx = {
            "path": path.description,
            "baseline": base.description,
            "address": f"{path.address[0]}:{path.address[1]}",
        }
        lat = log.add(
            Comparison(
                group=f"net {variant.name} latency {path.name}",
                variant=variant.name, kind="network", unit="seconds per round trip (round median)",
                a_name="bare-metal loopback", b_name=path.name, a=base.round_p50, b=path.round_p50,
                gated=path.name == "host", context={**ctx, **_percentiles(base, path)},
            )
        )  # fmt: skip
        lat.verdict = verdict(lat.a, lat.b, threshold=settings.threshold)
        thr = log.add(
            Comparison(
                group=f"net {variant.name} throughput {path.name}",
                variant=variant.name, kind="network", unit="seconds per GiB (1/throughput)",
                a_name="bare-metal loopback", b_name=path.name,
                a=[(1 << 30) / t for t in base.throughput], b=[(1 << 30) / t for t in path.throughput],
                gated=path.name == "host", context={**ctx, "gbit_per_s": _gbits(base, path)},
            )
        )  # fmt: skip
        thr.verdict = verdict(thr.a, thr.b, threshold=settings.threshold)
    log.extra.setdefault("network_ranking", {})[variant.name] = ranking(paths)
    return paths


def _percentiles(base: netbench.PathSamples, path: netbench.PathSamples) -> dict[str, Any]:
    from .stats import percentile

    return {f"{p.name}_{q}_us": round(percentile(p.rtts, q) * 1e6, 1) for p in (base, path) for q in (50, 99)}


def _gbits(base: netbench.PathSamples, path: netbench.PathSamples) -> dict[str, float]:
    return {p.name: round(statistics.median(p.throughput) * 8 / 1e9, 2) for p in (base, path)}


def ranking(paths: list[netbench.PathSamples], tie: float = 0.10) -> dict[str, list[list[str]]]:
    """Paths from best to worst by median latency and by median throughput, in tiers.

    Paths within ``tie`` (10%, the spread this machine gives) of the best of a tier share it: their order inside
    a tier is noise, and would not repeat from run to run.
    """

    def tiers(values: dict[str, float]) -> list[list[str]]:
        out: list[list[str]] = []
        head = 0.0
        for name, value in sorted(values.items(), key=lambda kv: kv[1]):
            if out and value <= head * (1 + tie):
                out[-1].append(name)
            else:
                out.append([name])
                head = value
        return out

    return {
        "latency": tiers({p.name: statistics.median(p.round_p50) for p in paths}),
        "throughput": tiers({p.name: 1 / statistics.median(p.throughput) for p in paths}),
    }


# --- GPU ------------------------------------------------------------------------

GPU_WORKLOADS = ("gpu_matmul", "gpu_train")
GPU_MATMUL_N = 4096  # agent_script.GPU_N
GPU_FLOPS = {"gpu_matmul": 2 * GPU_MATMUL_N**3}  # floating-point operations per unit


def gpu_settings(threshold: float, rounds: int) -> CpuSettings:
    """GPU rounds: longer (launch jitter), no sustained blocks (a GPU wait is not a CPU stall)."""
    return CpuSettings(
        rounds=rounds, round_seconds=0.05, blocks=0, threshold=threshold, timeout=300.0, workloads=GPU_WORKLOADS
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
    gpu_mapping: gpu.GpuMapping,
    host: gpu.HostGpus,
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
        a_agent = start_bare_agent(bare, variant.python, "agent_script.py", [], env, cpu=cpu, binds=binds)
        agents.append(a_agent)
        b_agent = start_container_agent(session, container, variant.python, "agent_script.py", [], env)
        agents.append(b_agent)
        a_ctx, b_ctx = a_agent.request({"op": "context"}, 30), b_agent.request({"op": "context"}, 30)
        ctx = _explain(a_ctx, b_ctx)
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

        results = _compare("gpu", variant, a_agent, b_agent, ctx, settings, log, annotate=with_tflops)
    finally:
        for agent in agents:
            agent.close()
        session.remove(cid(container))
    return results
