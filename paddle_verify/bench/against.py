"""Release against release (``--against VARIANT=REF``): is the new image slower than the old one?

The same CPU workloads in a container of the variant's image (new) and one of ``REF`` (old),
interleaved pair by pair on the same pinned CPU, exactly as bare metal against container
(:func:`.cpu.compare`): the ratio new/old, its interval and a verdict against ``--threshold``.
Then, paired the same way (old new, new old, ...): ``import paddle`` in a fresh Python of
each container, and a container's start (create untimed; start to the exit of ``python -c
pass``). Two absolute figures from two runs on a machine whose speed drifts say little; the
ratio of adjacent measurements on one machine says what changed.
"""

from __future__ import annotations

import time
from typing import Any

from docker.models.containers import Container

from ..engine import EngineError, Session, cid, daemon_error, daemon_fault, require_image
from ..manifest import Variant
from .agents import Agent, AgentError, agent_env, start_container_agent
from .cpu import CpuSettings, Planner, compare, default_plan, explain, pinned_container
from .log import BenchLog, Comparison
from .stats import verdict

NAMES = ("old", "new")
PAIRS = 6  # import and start pairs: each import is a second or more, each start half a second
EXTRAS = ("import", "start")


def measure_against(
    session: Session,
    variant: Variant,
    ref: str,
    log: BenchLog,
    settings: CpuSettings,
    plan: Planner = default_plan,
    pairs: int = PAIRS,
    extras: tuple[str, ...] = EXTRAS,
) -> dict[str, Comparison]:
    """The CPU workloads, and ``extras`` (``import``, ``start``), of ``variant``'s image (new)
    against ``ref`` (old)."""
    for image in (ref, variant.image):
        require_image(session.client, image, variant=variant.name)
    env = agent_env(dict(variant.runtime.env))
    containers: list[Container] = []
    agents: list[Agent] = []
    try:
        sides: list[list[Agent]] = []
        for image, purpose in ((ref, "against-old"), (variant.image, "against-new")):
            containers.append(pinned_container(session, image, variant, settings, purpose, quota=image != ref))
            sides.append(
                [
                    start_container_agent(session, containers[-1], variant.python, "agent.py", [], env)
                    for _ in range(settings.processes)
                ]
            )
            agents.extend(sides[-1])
        old, new = sides[0][0], sides[1][0]
        ctx: dict[str, Any] = explain(old.request({"op": "context"}, 30), new.request({"op": "context"}, 30), NAMES)
        ctx.update(old=ref, new=variant.image)
        results = compare("against", variant, sides[0], sides[1], ctx, settings, log, names=NAMES, plan=plan)
        if "import" in extras:
            results["import"] = _imports(variant, old, new, ctx, settings, log, pairs)
        if "start" in extras:
            results["start"] = _starts(session, variant, ref, ctx, settings, log, pairs)
        return results
    finally:
        for agent in agents:
            agent.close()
        for container in containers:
            session.remove(cid(container))


def _comparison(variant: Variant, what: str, unit: str, ctx: dict[str, Any], log: BenchLog) -> Comparison:
    return log.add(
        Comparison(
            group=f"against {variant.name} {what}", variant=variant.name, kind="against", unit=unit,
            a_name=NAMES[0], b_name=NAMES[1], context={"old": ctx["old"], "new": ctx["new"]},
        )
    )  # fmt: skip


def _imports(
    variant: Variant, old: Agent, new: Agent, ctx: dict[str, Any], s: CpuSettings, log: BenchLog, pairs: int
) -> Comparison:
    """``import paddle`` in a fresh Python of each container, in pairs (after one untimed each)."""
    comp = _comparison(variant, "import", "seconds to import paddle in a fresh Python", ctx, log)
    req = {"op": "import", "module": "paddle"}
    processes: dict[str, list[float]] = {"old": [], "new": []}
    try:
        for agent in (old, new):  # the first import reads the files from disk; the rest, as a user's do
            agent.request(req, s.timeout)
        for i in range(pairs):
            order = ((old, comp.a, "old"), (new, comp.b, "new"))
            for agent, samples, name in order if i % 2 == 0 else order[::-1]:
                got = agent.request(req, s.timeout)
                samples.append(float(got["import"]))
                processes[name].append(float(got["process"]))
    except AgentError as exc:
        comp.error = str(exc)
        return comp
    comp.context["process_seconds"] = processes
    comp.verdict = verdict(comp.a, comp.b, threshold=s.threshold)
    return comp


def _starts(
    session: Session, variant: Variant, ref: str, ctx: dict[str, Any], s: CpuSettings, log: BenchLog, pairs: int
) -> Comparison:
    """A container's start, to the exit of ``python -c pass``, old and new in pairs."""
    comp = _comparison(variant, "start", "seconds from start to the exit of python -c pass", ctx, log)
    try:
        for image in (ref, variant.image):  # untimed: the first start of an image sets up its layers
            _start(session, variant, image, s)
        for i in range(pairs):
            order = ((ref, comp.a), (variant.image, comp.b))
            for image, samples in order if i % 2 == 0 else order[::-1]:
                samples.append(_start(session, variant, image, s))
    except EngineError as exc:
        comp.error = str(exc)
        return comp
    comp.verdict = verdict(comp.a, comp.b, threshold=s.threshold)
    return comp


def _start(session: Session, variant: Variant, image: str, s: CpuSettings) -> float:
    container = session.create_container(
        image, variant=variant.name, purpose="against-start", network_mode="none",
        entrypoint=[variant.python, "-c", "pass"], command=[],
    )  # fmt: skip
    try:
        started = time.perf_counter()
        session.start_container(container, variant=variant.name)
        try:
            status = container.wait(timeout=s.timeout)
        except Exception as exc:  # docker-py raises requests' and its own errors
            raise EngineError(
                f"{variant.name}: {image}: python -c pass did not exit: {daemon_error(exc)}", fault=daemon_fault(exc)
            ) from None
        took = time.perf_counter() - started
        if status.get("StatusCode") != 0:
            raise EngineError(f"{variant.name}: {image}: python -c pass exited {status.get('StatusCode')}")
        return took
    finally:
        session.remove(cid(container))
