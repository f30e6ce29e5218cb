"""The CPU comparison: the same workloads, with the same bits, on bare metal and in a container,
interleaved pair by pair on one pinned CPU, then sustained blocks for the stalls of a quota."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..engine import Session, cid, require_image
from ..manifest import Variant
from .agents import Agent, AgentError, agent_env, start_container_agent
from .baremetal import BareMetal, bare_metal, start_bare_agent
from .log import BenchLog, Comparison
from .stats import verdict

CPU_WORKLOADS = ("interp", "matmul", "train")
ROUND_SCALE = {"train": 2}
KEEP_ALIVE: dict[str, Any] = {"entrypoint": ["sleep"], "command": ["infinity"]}


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


def explain(bare: dict[str, Any], cont: dict[str, Any]) -> dict[str, Any]:
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
        a_agent = start_bare_agent(bare, variant.python, "agent.py", [], env, cpu=cpu)
        agents.append(a_agent)
        b_agent = start_container_agent(session, container, variant.python, "agent.py", [], env)
        agents.append(b_agent)
        ctx = explain(a_agent.request({"op": "context"}, 30), b_agent.request({"op": "context"}, 30))
        ctx["bare_metal_mode"] = bare.note
        ctx["container_limits"] = {"cpus": settings.cpus} if settings.cpus else "none"
        results = compare("cpu", variant, a_agent, b_agent, ctx, settings, log)
    finally:
        for agent in agents:
            agent.close()
        session.remove(cid(container))
    return results


def compare(
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
