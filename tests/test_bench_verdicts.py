"""plugin/bench_verdicts.py: ``replay`` records the measured durations exactly through the installed
pytest-benchmark (whose private clock it swaps: gone or unread, it fails loudly), and ``gate``
turns a comparison into pass, fail, or a skip "UNSTABLE measurement"."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from paddle_verify.bench.log import Comparison
from paddle_verify.bench.stats import Verdict
from paddle_verify.manifest import load
from paddle_verify.plugin.bench_verdicts import TIMER, _gate, replay_into

from .conftest import REFERENCE

CPU = load(REFERENCE).variants["cpu"]
DURATIONS = [0.5, 0.25, 1.0, 0.125]

THEIR_TEST = f"""
import time

from paddle_verify.plugin.bench_verdicts import TIMER


def test_replayed(benchmark, replay):
    # the private clock replay_into swaps: on the installed pytest-benchmark's fixture, and the
    # clock it times with (its default, --benchmark-timer)
    assert getattr(benchmark, TIMER) is time.perf_counter, getattr(benchmark, TIMER, "no attribute")
    replay(benchmark, {DURATIONS!r}, "replayed", {{"place": "elsewhere"}})
"""


def test_replay_records_the_durations_through_the_installed_pytest_benchmark(tmp_path: Path) -> None:
    """The real fixture of the installed pytest-benchmark, in a pytest run of its own: the rows
    of ``--benchmark-json`` are the durations given, not the time a Python call took."""
    (tmp_path / "test_theirs.py").write_text(THEIR_TEST)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--benchmark-json=bench.json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, f"pytest-benchmark {version('pytest-benchmark')}: {proc.stdout[-3000:]}"
    (row,) = json.loads((tmp_path / "bench.json").read_text())["benchmarks"]
    assert row["group"] == "replayed", row
    assert row["extra_info"] == {"place": "elsewhere"}, row
    got = {k: row["stats"][k] for k in ("rounds", "min", "max", "mean")}
    assert got == {"rounds": 4, "min": 0.125, "max": 1.0, "mean": 0.46875}, got


class Fixture:
    """A stand-in for pytest-benchmark's fixture: times ``pedantic``'s rounds with ``_timer``, or
    with its own clock (``reads_timer=False``: a release that stopped reading it)."""

    def __init__(self, reads_timer: bool = True, disabled: bool = False) -> None:
        self._timer: Callable[[], float] = time.perf_counter
        self.reads_timer, self.disabled = reads_timer, disabled
        self.stats: Any = None
        self.calls = 0

    def pedantic(self, target: Callable[[], None], rounds: int, iterations: int, warmup_rounds: int) -> None:
        if self.disabled:
            target()
            self.calls += 1
            return
        data: list[float] = []
        for _ in range(rounds):
            clock = self._timer if self.reads_timer else time.perf_counter
            start = clock()
            target()
            data.append(clock() - start)
        self.stats = type("Metadata", (), {"stats": type("Stats", (), {"data": data})()})()


class NoTimer:
    """A fixture whose clock has another name."""

    def __init__(self) -> None:
        self.disabled = False
        self._clock = time.perf_counter

    def pedantic(self, *args: Any, **kwargs: Any) -> None:
        raise AssertionError("replay_into must not time anything with a fixture it cannot replay into")


def test_replay_into_a_fixture_without_the_private_timer_fails_loudly() -> None:
    with pytest.raises(RuntimeError) as info:
        replay_into(NoTimer(), DURATIONS)
    message = str(info.value)
    assert f"pytest-benchmark {version('pytest-benchmark')}" in message, message
    assert f"has no clock {TIMER}" in message, message
    assert "bench_verdicts.py" in message, message


def test_replay_into_a_fixture_that_no_longer_reads_the_timer_fails_loudly() -> None:
    with pytest.raises(RuntimeError) as info:
        replay_into(Fixture(reads_timer=False), DURATIONS)
    assert f"it no longer times with {TIMER}" in str(info.value), str(info.value)
    assert "for the durations [0.5, 0.25, 1.0]" in str(info.value), str(info.value)


def test_replay_into_a_fixture_that_reads_the_timer_records_the_durations() -> None:
    fixture = Fixture()
    replay_into(fixture, DURATIONS)
    assert fixture.stats.stats.data == DURATIONS


def test_replay_into_a_disabled_fixture_runs_once_and_checks_nothing() -> None:
    """``--benchmark-disable``: pytest-benchmark calls the target once and records nothing."""
    fixture = Fixture(disabled=True)
    replay_into(fixture, DURATIONS)
    assert (fixture.calls, fixture.stats) == (1, None)


def comparison(outcome: str | None, error: str | None = None, **context: Any) -> Comparison:
    verdict = (
        Verdict(
            outcome, ratio=1.08, low=1.06, high=1.10, threshold=0.05, spread=0.02, speed_ratio=1.08, stall_ratio=1.0
        )
        if outcome
        else None
    )
    return Comparison(
        "cpu cpu interp", "cpu", "cpu", "s", "bare metal", "container", verdict=verdict, error=error, context=context
    )


def outcome_of(gate: Callable[[], None]) -> tuple[str, str]:
    try:
        gate()
    except pytest.skip.Exception as exc:
        return "skipped", str(exc)
    except (pytest.fail.Exception, AssertionError) as exc:
        return "failed", str(exc)
    return "passed", ""


@pytest.mark.parametrize(
    ("comp", "expected", "says"),
    [
        (comparison("pass"), "passed", ""),
        (
            comparison("fail"),
            "failed",
            "container slower than allowed: cpu: cpu cpu interp: container/bare metal = 1.080",
        ),
        (comparison("unstable", path="bridge"), "skipped", "UNSTABLE measurement, no verdict: cpu: cpu cpu interp: "),
        (comparison(None, error="agent died"), "failed", "cpu: cpu cpu interp: agent died"),
    ],
    ids=["pass", "fail", "unstable", "error"],
)
def test_gate(comp: Comparison, expected: str, says: str, request: pytest.FixtureRequest) -> None:
    got, message = outcome_of(lambda: _gate(CPU, comp))
    assert got == expected, f"{request.node.callspec.id}: {got}: {message}"
    assert says in message, message
    if comp.context:
        assert message.endswith("; path: bridge"), message
