"""The CPU comparison: the same workloads, with the same bits, on bare metal and in a container,
interleaved pair by pair on one pinned CPU, then sustained blocks for the stalls of a quota."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docker.models.containers import Container

from ..engine import Session, cid, require_image
from ..manifest import Variant
from .agents import Agent, AgentError, agent_env, start_container_agent
from .baremetal import BareMetal, bare_metal, start_bare_agent
from .cpuload import shared, sustain
from .log import BenchLog, Comparison
from .stats import verdict

CPU_WORKLOADS = ("interp", "matmul", "train")
ROUND_SCALE = {"train": 2}
KEEP_ALIVE: dict[str, Any] = {"entrypoint": ["sleep"], "command": ["infinity"]}


@dataclass
class CpuSettings:
    rounds: int = 40  # interleaved pairs of short rounds (fewer, longer ones for noisy workloads)
    round_seconds: float = 0.03
    blocks: int = 4  # sustained blocks per side, paired A B, B A, ... (once per variant)
    # Ten CFS periods (100 ms): a quota throttles the block 9 or 10 times, as the block's phase
    # falls (at 0.4 s, 3 or 4 times: a 5% quota read as 3.9-5.3%).
    block_seconds: float = 1.0
    block_warm: float = 0.11  # untimed start of each block: more than one CFS period (100 ms)
    threshold: float = 0.05
    cpus: float | None = None  # a CPU quota on the container (diagnosis, self-tests)
    timeout: float = 120.0
    workloads: tuple[str, ...] = CPU_WORKLOADS
    pin_cpu: int = field(default_factory=lambda: max(os.sched_getaffinity(0)))
    # What a round's duration is: "cpu", the agent's CPU time (a round another process preempts
    # is not longer for it: the stalls are the sustained blocks' part), or "wall" (GPU rounds,
    # which wait for the GPU).
    clock: str = "cpu"
    # Agent processes per side, the rounds turning over them: two processes of the same program in
    # the same place differ by up to 3% for the allocating workload (measured: 0.969-1.031 over 12
    # A/A runs of two bare-metal processes, ASLR off or on), and one process per side would make
    # that lottery a bias no number of rounds removes. Its interval resamples the processes too.
    processes: int = 2


def explain(
    a: dict[str, Any], b: dict[str, Any], names: tuple[str, str] = ("bare_metal", "container")
) -> dict[str, Any]:
    """The context of both places (under ``names``), and the keys where they differ (what may
    explain a gap)."""
    keys = ("seccomp", "speculation_store_bypass", "no_new_privs", "cpu_max", "cpuset", "cpus_allowed", "python")
    return {
        names[0]: {k: a.get(k) for k in keys},
        names[1]: {k: b.get(k) for k in keys},
        "places": list(names),
        "differs": sorted(k for k in keys if a.get(k) != b.get(k)),
    }


def pinned_container(
    session: Session, image: str, variant: Variant, settings: CpuSettings, purpose: str, quota: bool = True
) -> Container:
    """A started keep-alive container on the benchmark's CPU (under ``--bench-cpus`` when ``quota``)."""
    limits: dict[str, Any] = {"cpuset_cpus": str(settings.pin_cpu)}
    if quota and settings.cpus:
        limits["nano_cpus"] = int(settings.cpus * 1e9)
    container = session.create_container(
        image, variant=variant.name, purpose=purpose, network_mode="none", **KEEP_ALIVE, **limits
    )
    session.start_container(container, variant=variant.name)
    return container


def measure_cpu(
    session: Session, variant: Variant, log: BenchLog, cache: Path, settings: CpuSettings, plan: Planner | None = None
) -> dict[str, Comparison]:
    """Interleaved bare-metal/container rounds of each CPU workload for one variant."""
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare: BareMetal = bare_metal(session, image, cache, variant=variant.name)
    env = agent_env(dict(variant.runtime.env))
    # Both sides on the same CPU: this machine's CPUs differ in speed from moment to moment.
    container = pinned_container(session, image, variant, settings, "bench-cpu")
    agents: list[Agent] = []
    results: dict[str, Comparison] = {}
    try:
        a_side: list[Agent] = []
        b_side: list[Agent] = []
        for _ in range(settings.processes):
            a_side.append(start_bare_agent(bare, variant.python, "agent.py", [], env, cpu=str(settings.pin_cpu)))
            agents.append(a_side[-1])
            b_side.append(start_container_agent(session, container, variant.python, "agent.py", [], env))
            agents.append(b_side[-1])
        ctx = explain(a_side[0].request({"op": "context"}, 30), b_side[0].request({"op": "context"}, 30))
        ctx["bare_metal_mode"] = bare.note
        ctx["container_limits"] = {"cpus": settings.cpus} if settings.cpus else "none"
        results = compare("cpu", variant, a_side, b_side, ctx, settings, log, plan=plan or default_plan)
    finally:
        for agent in agents:
            agent.close()
        session.remove(cid(container))
    return results


@dataclass(frozen=True)
class Plan:
    """What one workload's verdict uses: the pairs of rounds, the threshold, and why (a calibration)."""

    rounds: int
    threshold: float
    note: str = ""


Planner = Callable[[str, CpuSettings], Plan]


def default_plan(workload: str, s: CpuSettings) -> Plan:
    """Without a calibration: ``--bench-rounds`` pairs."""
    return Plan(max(10, s.rounds), s.threshold)


def compare(
    kind: str,
    variant: Variant,
    a: Agent | Sequence[Agent],
    b: Agent | Sequence[Agent],
    ctx: dict[str, Any],
    settings: CpuSettings,
    log: BenchLog,
    annotate: Callable[[str, Comparison], None] | None = None,
    names: tuple[str, str] = ("bare metal", "container"),
    plan: Planner = default_plan,
    group: str | None = None,
) -> dict[str, Comparison]:
    """Each workload of ``settings`` in both places, interleaved, with its verdict.

    ``names``: what A and B are (bare metal and container; the old and the new image; a place
    and itself); ``plan``: the rounds and threshold of each workload's verdict. ``a`` and ``b``:
    one agent each, or as many processes on each side (:attr:`CpuSettings.processes`)."""
    a_side = list(a) if isinstance(a, Sequence) else [a]
    b_side = list(b) if isinstance(b, Sequence) else [b]
    results: dict[str, Comparison] = {}
    units: dict[str, int] = {}
    for workload in settings.workloads:
        comp = log.add(
            Comparison(
                group=f"{group or kind} {variant.name} {workload}", variant=variant.name, kind=kind,
                unit="seconds per round", a_name=names[0], b_name=names[1], context=ctx,
            )
        )  # fmt: skip
        results[workload] = comp
        try:
            units[workload] = _interleave(a_side, b_side, workload, comp, settings, plan(workload, settings).rounds)
        except AgentError as exc:
            comp.error = str(exc)
    if units and settings.blocks:
        # Stalls are the place's, not the workload's (a quota, a shared CPU): measured once, with
        # the first workload, for every workload's verdict.
        first = next(iter(units))
        try:
            request = {
                "op": "sustain", "workload": first, "n": units[first],
                "seconds": settings.block_seconds, "warm": settings.block_warm,
            }  # fmt: skip
            stalls_a, stalls_b, others = sustain(
                a_side, b_side, request, blocks=settings.blocks, timeout=settings.timeout, cpu=settings.pin_cpu
            )
        except AgentError as exc:
            for workload in units:
                results[workload].error = str(exc)
            units = {}
        for workload in units:
            comp = results[workload]
            comp.stalls_a, comp.stalls_b = list(stalls_a), list(stalls_b)
            comp.context = {**comp.context, "stalls_measured_with": first, "others_on_cpu": others}
    for workload in units:
        comp, chosen = results[workload], plan(workload, settings)
        if annotate is not None:
            annotate(workload, comp)
        comp.verdict = verdict(
            comp.a, comp.b, threshold=chosen.threshold, stalls_a=comp.stalls_a, stalls_b=comp.stalls_b,
            note=chosen.note, groups=comp.groups, withheld=shared(comp) or "",
        )  # fmt: skip
    return results


def _round(agent: Agent, workload: str, n: int, s: CpuSettings) -> float:
    got = agent.request({"op": "round", "workload": workload, "n": n}, s.timeout)
    return float(got["cpu" if s.clock == "cpu" else "seconds"])


def _interleave(
    a_side: list[Agent], b_side: list[Agent], workload: str, comp: Comparison, s: CpuSettings, rounds: int
) -> int:
    """Every process of both sides gets the same history (prepare, the calibration's rounds, a
    warm-up round); then ``rounds`` pairs A B, B A, ..., pair i on the i-th pair of processes in
    turn. Returns the units per round."""
    everyone = [*a_side, *b_side]
    for agent in everyone:
        agent.request({"op": "prepare", "workload": workload}, s.timeout)
    # A training step allocates and frees much; its rounds are noisier, so longer (as many pairs).
    target = s.round_seconds * ROUND_SCALE.get(workload, 1)
    # Units per round so that a round lasts about `target`, timed on A's first process; every other
    # process runs the same rounds, untimed: a process that ran more (its allocator's pools grown,
    # its caches warm) is not another place.
    n = 1
    for _ in range(8):
        took = _round(a_side[0], workload, n, s)
        for agent in everyone[1:]:
            _round(agent, workload, n, s)
        if took >= target / 4:
            n = max(1, round(n * target / took))
            break
        n *= 4
    comp.context = {**comp.context, "units_per_round": n, "pairs": rounds, "cpu": s.pin_cpu, "processes": len(a_side)}
    for agent in everyone:  # one warm-up round each, not counted
        _round(agent, workload, n, s)
    k = len(a_side)
    for i in range(rounds):
        a, b = a_side[i % k], b_side[i % k]
        order = ((a, comp.a), (b, comp.b)) if i % 2 == 0 else ((b, comp.b), (a, comp.a))  # A B, B A, ...
        for agent, samples in order:
            samples.append(_round(agent, workload, n, s))
        comp.groups.append(i % k)
    return n
