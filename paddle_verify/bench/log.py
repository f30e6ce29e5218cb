"""The benchmark log: every comparison of the session (:class:`Comparison`), written at the
end as ``reports/benchmarks.json`` and one SVG plot per group (:class:`BenchLog`)."""

from __future__ import annotations

import json
import statistics
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import svgplot
from .stats import Verdict, spread, stall_factor


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
    groups: list[int] = field(default_factory=list)  # pair i's pair of processes (empty: one per side)
    verdict: Verdict | None = None
    gated: bool = True
    context: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def effective(self, side: str) -> list[float]:
        """Side ``a``'s or ``b``'s rounds, each times that side's stall factor (wall over CPU time
        of its sustained blocks): the time per round of work with the stalls of sustained load
        included. What pytest-benchmark keeps, so that its history sees a quota as the gate does."""
        factor = self.stall(side)
        return [r * factor for r in (self.a if side == "a" else self.b)]

    def per_a_second(self) -> list[float]:
        """B's time for what takes A one second, pair by pair: b_i / a_i times B's stall factor over
        A's (the gate's ratio, sample by sample). Each pair shares the machine's state, so two runs
        of it compare the places, not how fast the machine was in each: the history row a run under
        a quota trips on even when this machine ran at another speed (a 0.66-1.39x move between
        runs a quarter of a minute apart, here) for the saved one."""
        factor = self.stall("b") / self.stall("a")
        return [y / x * factor for x, y in zip(self.a, self.b, strict=True)]

    def stall(self, side: str) -> float:
        """Side ``a``'s or ``b``'s stall factor (1.0 without sustained blocks)."""
        blocks = self.stalls_a if side == "a" else self.stalls_b
        return stall_factor(*zip(*blocks, strict=True)) if blocks else 1.0

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
