"""The benchmark verdict on synthetic data: pass, fail, unstable, and what stalls add."""

from __future__ import annotations

import random

import pytest

from paddle_verify.bench import svgplot
from paddle_verify.bench.calibration import Calibration, biased
from paddle_verify.bench.cpu import CpuSettings
from paddle_verify.bench.stats import percentile, spread, verdict


def noisy(n: int, centre: float, rel: float, seed: int) -> list[float]:
    rng = random.Random(seed)
    return [centre * (1 + rng.gauss(0, rel)) for _ in range(n)]


def drifting_pairs(n: int, slowdown: float, seed: int) -> tuple[list[float], list[float]]:
    """The machine's speed drifts by +-25% between pairs; within a pair it holds."""
    rng = random.Random(seed)
    a, b = [], []
    for _ in range(n):
        speed = rng.uniform(0.75, 1.25)
        a.append(0.02 * speed * (1 + rng.gauss(0, 0.01)))
        b.append(0.02 * speed * slowdown * (1 + rng.gauss(0, 0.01)))
    return a, b


def test_percentile_and_spread() -> None:
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 99) == 5
    assert spread([1.0] * 10) == 0
    with pytest.raises(ValueError, match="no samples"):
        percentile([], 50)


def test_equal_sides_pass_with_a_tight_interval() -> None:
    a, b = drifting_pairs(120, 1.0, seed=1)
    v = verdict(a, b, threshold=0.05)
    assert v.outcome == "pass"
    assert v.low < 1 < v.high
    assert v.half_width < 0.01  # pairing cancels the drift


def test_a_slow_container_fails() -> None:
    a, b = drifting_pairs(120, 1.10, seed=2)
    v = verdict(a, b, threshold=0.05)
    assert v.outcome == "fail"
    assert v.low > 1.05
    assert "slower by 9.8%" in v.describe()


def test_a_slowdown_inside_the_threshold_passes() -> None:
    a, b = drifting_pairs(120, 1.03, seed=3)
    assert verdict(a, b, threshold=0.05).outcome == "pass"
    assert verdict(a, b, threshold=0.01).outcome == "fail"


def test_an_interval_that_reaches_the_threshold_is_no_fail_and_no_pass() -> None:
    """6% slower, the interval reaching below 5%: not shown slower than allowed, nor within it."""
    a = noisy(12, 1.0, 0.04, seed=4)
    b = [x * 1.06 * (1 + 0.06 * (-1) ** i) for i, x in enumerate(a)]
    v = verdict(a, b, threshold=0.05)
    assert v.low <= 1.05
    assert v.ratio > 1.05
    assert v.outcome == "unstable"
    assert verdict(a, b, threshold=0.08).outcome == "pass"  # within a wider threshold: a pass


def test_scattered_pairs_are_unstable_not_pass() -> None:
    a = noisy(60, 1.0, 0.01, seed=5)
    b = noisy(60, 1.0, 0.3, seed=6)
    assert verdict(a, b).outcome == "unstable"


def test_a_clear_slowdown_fails_even_when_scattered() -> None:
    a = noisy(60, 1.0, 0.01, seed=5)
    b = noisy(60, 1.8, 0.2, seed=6)
    v = verdict(a, b)
    assert v.spread > 0.1
    assert v.outcome == "fail"


def test_stalls_under_sustained_load_count() -> None:
    a, b = drifting_pairs(120, 1.0, seed=7)
    quota = [(1.09, 1.0), (1.10, 1.0), (1.085, 1.0)]  # wall, cpu: a 0.9-CPU quota
    free = [(1.0, 1.0), (1.001, 1.0), (1.0, 1.0)]
    v = verdict(a, b, stalls_a=free, stalls_b=quota)
    assert v.outcome == "fail"
    assert v.stall_ratio == pytest.approx(1.09, abs=0.01)
    assert v.ratio == pytest.approx(v.speed_ratio * v.stall_ratio)


def test_svg_plot_has_every_sample() -> None:
    svg = svgplot.distributions("g", "s", [("bare metal", [1.0, 1.1, 1.2]), ("container", [1.0, 1.3])], "sub")
    assert svg.startswith("<svg")
    assert svg.count("<circle") == 5
    assert "container (median 1.15, n=2)" in svg


def test_network_ranking_ties_what_noise_would_reorder() -> None:
    from paddle_verify.bench.netclient import PathSamples
    from paddle_verify.bench.network import ranking

    measured = {"loopback": (25.6e-6, 28.7e9), "host": (27.9e-6, 26.2e9), "bridge": (26.2e-6, 19.7e9),
                "published": (54.4e-6, 12.9e9)}  # fmt: skip
    paths = [
        PathSamples(n, ("127.0.0.1", 1), n, round_p50=[lat], throughput=[thr]) for n, (lat, thr) in measured.items()
    ]
    assert ranking(paths) == {
        "latency": [["loopback", "bridge", "host"], ["published"]],
        "throughput": [["loopback", "host"], ["bridge"], ["published"]],
    }


def test_a_biased_a_a_fails_the_calibration_check() -> None:
    """A TEST DOUBLE of a biased method: one side 3% slower where both are the same place.
    test_a_place_against_itself_is_unbiased fails on it (calibration.biased), not on a fair one."""
    a, b = drifting_pairs(60, 1.03, seed=5)
    assert biased(verdict(a, b))
    a, b = drifting_pairs(60, 1.0, seed=6)
    assert not biased(verdict(a, b))


def test_a_calibration_chooses_pairs_and_threshold() -> None:
    cal = Calibration({"interp": {"bias": 0.002, "spread": 0.02}, "train": {"bias": 0.03, "spread": 0.08}})
    s = CpuSettings(rounds=25, threshold=0.03)
    quiet = cal.plan("interp", s)
    assert quiet.threshold == 0.03, quiet
    assert 10 <= quiet.rounds <= 20, quiet  # (2 * 2.46 * 0.02 / 0.03)^2 = 11
    assert "A/A bias +0.2%, spread 2.0% -> " in quiet.note
    noisy = cal.plan("train", s)
    assert noisy.rounds == 150, noisy  # capped
    assert noisy.threshold > 0.03, noisy  # and the threshold raised
    assert "raised from 3.0%: the method resolves no less here" in noisy.note
    assert cal.plan("matmul", s).note == ""  # not calibrated: --bench-rounds and --threshold


def test_a_withheld_verdict_is_unstable_and_says_why() -> None:
    """A clear fail on a CPU others kept busy: no verdict, with the reason in the note."""
    a, b = drifting_pairs(60, 1.10, seed=7)
    assert verdict(a, b).outcome == "fail"
    v = verdict(a, b, note="calibrated", withheld="no verdict: CPU 1 was busy with other work 40% of the time")
    assert v.outcome == "unstable"
    assert v.note == "calibrated; no verdict: CPU 1 was busy with other work 40% of the time"
    assert "[calibrated; no verdict: CPU 1 was busy" in v.describe()


def test_stalls_fail_on_their_own_whatever_the_speed() -> None:
    """A container measured 3% faster per CPU-second and throttled 5% under sustained load: the
    product (1.02) is within a 3% threshold, the stalls alone are not (a quota: a defect of the
    place no speed edge pays for)."""
    a, b = drifting_pairs(120, 0.97, seed=8)
    quota = [(1.052, 1.0), (1.055, 1.0), (1.05, 1.0), (1.056, 1.0)]
    free = [(1.0, 1.0), (1.0002, 1.0), (1.0, 1.0), (1.0001, 1.0)]
    v = verdict(a, b, threshold=0.03, stalls_a=free, stalls_b=quota)
    assert v.ratio < 1.03 < v.stall_low
    assert v.outcome == "fail"
    assert "stalls alone beyond the threshold (95% CI 1.05" in v.describe()
    clean = verdict(a, b, threshold=0.03, stalls_a=free, stalls_b=free)
    assert clean.outcome == "pass", clean.describe()
    assert "stalls alone" not in clean.describe()


def test_stalls_beyond_the_threshold_in_doubt_are_no_pass() -> None:
    """Stalls read beyond the threshold, their interval reaching below it: unstable, not a pass
    earned by a faster speed."""
    a, b = drifting_pairs(120, 0.97, seed=9)
    doubt = [(1.02, 1.0), (1.05, 1.0), (1.03, 1.0), (1.045, 1.0)]
    free = [(1.0, 1.0)] * 4
    v = verdict(a, b, threshold=0.03, stalls_a=free, stalls_b=doubt)
    assert v.stall_low < 1.03 < v.stall_ratio
    assert v.ratio < 1.03
    assert v.outcome == "unstable", v.describe()
