"""A/A calibration (``--calibrate``): the CPU comparison with the same place on both sides.

Bare metal against bare metal (two agents in the image's chroot) and container against
container (two containers of the image: the image against itself), on the same pinned CPU,
interleaved exactly as the real comparison. Both sides being the same, any ratio away from
1.0 is the method's own bias here, and the pair ratios' spread its noise. From them each
verdict's pairs and threshold are chosen (:meth:`Calibration.plan`) and printed with it:
enough pairs for an interval of half the threshold, and a threshold no finer than what the
method resolves on this machine. ``reports/calibration.json`` keeps it for later runs
(``--calibration PATH``).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..engine import Session, cid, require_image
from ..manifest import Variant
from .agents import Agent, agent_env, start_container_agent
from .baremetal import bare_metal, start_bare_agent
from .cpu import CpuSettings, Plan, compare, default_plan, pinned_container
from .log import BenchLog, Comparison
from .stats import Verdict

PLACES = ("bare-metal", "container")
Z = 1.96 * 1.253  # a median's 95% interval: 1.96 standard errors of 1.253 sigma / sqrt(n)
MIN_PAIRS, MAX_PAIRS = 10, 150  # 150 pairs of 30 ms rounds: 9 s
TOLERANCE = 0.01  # an A/A ratio whose interval is wholly beyond 1 +- 1%: the method is biased here


@dataclass(frozen=True)
class Calibration:
    """The method's bias (A/A ratio - 1, the worse place's) and noise (pair-ratio spread) per workload."""

    measured: dict[str, dict[str, float]]  # workload -> {"bias": ..., "spread": ...}
    written: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    def plan(self, workload: str, s: CpuSettings) -> Plan:
        """Pairs for an interval of half the threshold; the threshold, raised to what the method
        resolves here (bias + the interval's half-width) when that is more."""
        got = self.measured.get(workload)
        if got is None:
            return default_plan(workload, s)
        bias, noise = got["bias"], got["spread"]
        pairs = min(MAX_PAIRS, max(MIN_PAIRS, math.ceil((2 * Z * noise / s.threshold) ** 2)))
        resolves = abs(bias) + Z * noise / math.sqrt(pairs)
        threshold = s.threshold if resolves <= s.threshold else math.ceil(resolves * 200) / 200
        note = (
            f"calibrated {self.written[:16]}: A/A bias {bias * 100:+.1f}%, spread {noise * 100:.1f}% "
            f"-> {pairs} pairs, threshold {threshold * 100:.1f}%"
        )
        if threshold > s.threshold:
            note += f" (raised from {s.threshold * 100:.1f}%: the method resolves no less here)"
        return Plan(pairs, threshold, note)


def from_comparisons(by_place: dict[str, dict[str, Comparison]]) -> Calibration:
    measured: dict[str, dict[str, float]] = {}
    for results in by_place.values():
        for workload, comp in results.items():
            if comp.verdict is None:
                continue
            bias, noise = comp.verdict.ratio - 1, comp.verdict.spread
            got = measured.setdefault(workload, {"bias": bias, "spread": noise})
            if abs(bias) > abs(got["bias"]):
                got["bias"] = bias
            got["spread"] = max(got["spread"], noise)
    return Calibration(measured)


def biased(v: Verdict, tolerance: float = TOLERANCE) -> bool:
    """The A/A interval lies wholly beyond 1 +- ``tolerance``: the two sides, the same, differ."""
    return v.low > 1 + tolerance or v.high < 1 - tolerance


def measure_calibration(
    session: Session, variant: Variant, log: BenchLog, cache: Path, settings: CpuSettings
) -> dict[str, dict[str, Comparison]]:
    """Each workload, bare metal against itself and the image's container against itself."""
    image = variant.image
    require_image(session.client, image, variant=variant.name)
    bare = bare_metal(session, image, cache, variant=variant.name)
    env = agent_env(dict(variant.runtime.env))
    cpu = str(settings.pin_cpu)
    out: dict[str, dict[str, Comparison]] = {}
    agents: list[Agent] = []
    containers = []
    k = settings.processes
    try:
        bares = [start_bare_agent(bare, variant.python, "agent.py", [], env, cpu=cpu) for _ in range(2 * k)]
        agents.extend(bares)
        ctx = {"place": f"bare metal against itself: {bare.note}"}
        out["bare-metal"] = compare(
            "calibrate", variant, bares[:k], bares[k:], ctx, settings, log,
            names=("bare metal", "bare metal again"), group="calibrate bare-metal",
        )  # fmt: skip
        sides: list[list[Agent]] = []
        for _ in range(2):
            containers.append(pinned_container(session, image, variant, settings, "calibrate", quota=False))
            sides.append(
                [start_container_agent(session, containers[-1], variant.python, "agent.py", [], env) for _ in range(k)]
            )
            agents.extend(sides[-1])
        ctx = {"place": f"a container of {image} against another"}
        out["container"] = compare(
            "calibrate", variant, sides[0], sides[1], ctx, settings, log,
            names=("container", "container again"), group="calibrate container",
        )  # fmt: skip
    finally:
        for agent in agents:
            agent.close()
        for container in containers:
            session.remove(cid(container))
    return out


def save(path: Path, calibrations: dict[str, Calibration]) -> None:
    """``{variant: calibration}`` as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {name: asdict(cal) for name, cal in calibrations.items()}
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def load(path: Path) -> dict[str, Calibration]:
    """What :func:`save` wrote; a clear error for anything else."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
        return {
            name: Calibration(
                {w: {"bias": float(m["bias"]), "spread": float(m["spread"])} for w, m in cal["measured"].items()},
                str(cal["written"]),
            )
            for name, cal in data.items()
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"--calibration {path}: not a calibration written by --calibrate: {exc}") from None
