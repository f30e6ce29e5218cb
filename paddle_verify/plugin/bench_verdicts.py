"""What a benchmark test does with a comparison measured elsewhere (``bench_fixtures.py``):
``replay`` its durations into pytest-benchmark (its table, ``--benchmark-json``, the saved history
that ``--benchmark-compare`` reads) and ``gate`` it (pass, fail, or a skip "UNSTABLE measurement").

:func:`replay_into` is the one place that touches a private name of pytest-benchmark
(:data:`TIMER`); it checks that the rounds recorded are the durations given, so a release that
renames or stops reading it fails the test loudly instead of recording the wrong clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

import pytest

from ..bench.log import Comparison
from ..manifest import Variant

# pytest-benchmark has no public API for durations measured elsewhere: ``benchmark(f)`` and
# ``benchmark.pedantic(f)`` time ``f`` with the fixture's clock, and ``--benchmark-timer`` names
# one clock for the whole run by import path. The agents time the workloads in the image and on
# bare metal; to record their durations, the fixture's clock (``BenchmarkFixture._timer``, set in
# its ``__init__`` and read by ``_make_runner`` in 5.3) is swapped for a replaying one.
TIMER = "_timer"


class Replay:
    """A clock that advances by exactly one recorded duration per call of :meth:`step`."""

    def __init__(self, durations: Sequence[float]) -> None:
        self.durations = durations
        self.now = 0.0
        self.i = 0

    def clock(self) -> float:
        return self.now

    def step(self) -> None:
        self.now += self.durations[self.i]
        self.i += 1


def replay_into(benchmark: Any, durations: Sequence[float]) -> None:
    """Record ``durations`` as the rounds of pytest-benchmark's ``benchmark`` fixture, one each.

    Raises :class:`RuntimeError` when the installed pytest-benchmark has no :data:`TIMER`, or
    recorded something else than ``durations`` (it no longer times with it)."""
    installed = f"pytest-benchmark {version('pytest-benchmark')}"
    if not callable(getattr(benchmark, TIMER, None)):
        raise RuntimeError(
            f"{installed}: its benchmark fixture has no clock {TIMER} to replay measured durations "
            "into (paddle_verify/plugin/bench_verdicts.py): pin the last pytest-benchmark that has it"
        )
    replayed = Replay(durations)
    setattr(benchmark, TIMER, replayed.clock)
    benchmark.pedantic(replayed.step, rounds=len(durations), iterations=1, warmup_rounds=0)
    if benchmark.disabled:  # --benchmark-disable: the step ran once, nothing is recorded
        return
    recorded = list(benchmark.stats.stats.data)
    if len(recorded) != len(durations) or not all(
        math.isclose(r, d, rel_tol=1e-9, abs_tol=1e-12) for r, d in zip(recorded, durations, strict=False)
    ):
        raise RuntimeError(
            f"{installed} recorded {recorded[:3]}... for the durations {list(durations[:3])}... "
            f"({len(recorded)} rounds for {len(durations)}): it no longer times with {TIMER} "
            "(paddle_verify/plugin/bench_verdicts.py): pin the last pytest-benchmark that does"
        )


@pytest.fixture
def replay() -> Callable[[Any, Sequence[float], str, dict[str, Any]], None]:
    """``replay(benchmark, durations, group, extra)``: the durations as ``benchmark``'s rounds,
    in pytest-benchmark's ``group``, with ``extra`` in its ``extra_info``."""

    def feed(benchmark: Any, durations: Sequence[float], group: str, extra: dict[str, Any]) -> None:
        benchmark.group = group
        benchmark.extra_info.update(extra)
        replay_into(benchmark, durations)

    return feed


@pytest.fixture
def gate() -> Callable[[Variant, Comparison], None]:
    """``gate(variant, comparison)``: pass, fail, or report as unstable (a skip with its reason)."""
    return _gate


def _gate(variant: Variant, comp: Comparison) -> None:
    if comp.error:
        pytest.fail(f"{variant.name}: {comp.group}: {comp.error}")
    assert comp.verdict is not None
    text = f"{variant.name}: {comp.group}: {comp.verdict.describe(comp.a_name, comp.b_name)}"
    ctx = comp.context
    why = ""
    if "old" in ctx:
        why = f"; new {ctx['new']} against old {ctx['old']}"
    if "differs" in ctx:
        a, b = ctx["places"]
        short = {"bare_metal": "bare", "container": "container"}
        why += "; differs: " + (
            ", ".join(f"{k} {short.get(a, a)}={ctx[a][k]!r} {short.get(b, b)}={ctx[b][k]!r}" for k in ctx["differs"])
            or "nothing"
        )
    elif "path" in ctx:
        why = f"; path: {ctx['path']}"
    if comp.verdict.outcome == "unstable":
        pytest.skip(f"UNSTABLE measurement, no verdict: {text}{why}")
    assert comp.verdict.outcome == "pass", f"{comp.b_name} slower than allowed: {text}{why}"
