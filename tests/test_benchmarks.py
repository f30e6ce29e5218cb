"""The benchmark gate can fail: a container under a CPU quota fails it, the clean one does not.

One workload (the single-threaded interpreter loop) keeps these runs short.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from paddle_verify.bench.network import SLOW_CONTAINER_AGENT
from paddle_verify.engine import leftovers

from .conftest import REFERENCE, ROOT, ImageFactory, InnerRun, prerequisite, run_suite

# Timed workloads and the gate's verdicts on them: in `make test-long`, not beside the other
# self-tests, whose load makes a 5% threshold unreadable (tests/conftest.py: TIERS).
pytestmark = pytest.mark.measure


@pytest.fixture
def run_bench(tmp_path: Path) -> Callable[..., InnerRun]:
    prerequisite(os.geteuid() == 0, "the bare-metal side chroots: needs root")

    def run(*args: str, target: Path = ROOT / "benchmarks" / "test_cpu.py") -> InnerRun:
        return run_suite(
            tmp_path, "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "interp", "--bench-rounds", "60", *args,
            target=target, timeout=300,
        )  # fmt: skip

    return run


def test_cpu_quota_fails_the_gate(reference_images: dict[str, str], run_bench: Callable[..., InnerRun]) -> None:
    run = run_bench("--bench-cpus", "0.5")
    assert run.ret == 1, run.stdout[-3000:]
    msg = run.messages()["test_cpu_overhead_within_threshold[cpu-interp]"]
    assert "container slower than allowed: cpu: cpu cpu interp: container/bare metal = " in msg
    assert "differs: cpu_max bare=" in msg
    assert "container='50000 100000'" in msg
    # The diagnosis: the stalls alone, with their own interval, beyond the threshold.
    assert "stalls alone beyond the threshold (95% CI " in msg, msg
    assert "container waits for a CPU under sustained load (a CPU quota, a shared cpuset)" in msg, msg
    assert run.bench is not None, run.stdout[-2000:]
    comp = run.bench["comparisons"][0]
    assert comp["verdict"]["outcome"] == "fail"
    assert comp["verdict"]["stall_ratio"] > 1.6, "a half-CPU quota must show as stalls under sustained load"
    assert (run.path / "reports" / "benchmarks" / "cpu_cpu_interp.svg").exists()


def test_clean_container_passes_the_gate(
    reference_images: dict[str, str], run_bench: Callable[..., InnerRun], docker_client: docker.DockerClient
) -> None:
    run = run_bench()
    outcome = run.outcomes()["test_cpu_overhead_within_threshold[cpu-interp]"]
    # "skipped" is the gate's "unstable": a noisy machine may give no verdict, but never a fail.
    assert outcome in ("passed", "skipped"), run.stdout[-3000:]
    if outcome == "skipped":
        assert "UNSTABLE measurement" in run.messages()["test_cpu_overhead_within_threshold[cpu-interp]"]
    assert run.bench is not None, run.stdout[-2000:]
    assert run.bench["comparisons"][0]["context"]["bare_metal_mode"].startswith("chroot into the image")
    assert run.leftovers(docker_client) == []


def test_slowed_container_agent_fails_the_host_network_gate(
    reference_images: dict[str, str], tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """TEST SEAM: the container-side network agent slowed by 25% (each echo held 25% of the
    exchange's round trip, each transfer's count 25% of the transfer): --net=host is then slower
    than bare metal, and the gate says so for latency and throughput.

    25%, five times the threshold: at 10% this VM's network spread (14-21% some days) read the
    slowdown as 1.087-1.123 with intervals reaching 1.006-1.053, "unstable" (no verdict, the
    gate's honest answer to noise) in three of four gates of one self-test run. What the gate can
    resolve at 10% is a measurement of its power (docs/benchmarks.md), not this test's question
    (can it fail). A run read unstable anyway is measured once more; a pass, or a second
    unstable run, fails the test."""
    prerequisite(os.geteuid() == 0, "the bare-metal side chroots: needs root")
    for attempt in (1, 2):
        (tmp_path / str(attempt)).mkdir()
        run = run_suite(
            tmp_path / str(attempt), "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "host_network",
            target=ROOT / "benchmarks" / "test_network.py", timeout=300,
            env={SLOW_CONTAINER_AGENT: "25"},
        )  # fmt: skip
        gates = {k: m for k, m in run.messages().items() if k.startswith("test_host_network_matches_bare_metal[")}
        if not any("UNSTABLE measurement" in m for m in gates.values()):
            break
    assert run.ret == 1, run.stdout[-3000:]
    assert len(gates) == 2, gates
    for measure in ("latency", "throughput"):
        (message,) = [m for k, m in gates.items() if measure in k]
        assert f"host slower than allowed: cpu: net cpu {measure} host" in message, message
    assert run.summary is not None
    assert leftovers(docker_client, run.summary["notes"]["session"]) == []


# The slowed image: a TEST DOUBLE (tests/doubles/slowed_by_ten_percent.py) baked into the reference
# cpu image on purpose: every Python in it shares its CPU with a process busy 1 ms in 10.
SLOWED = """FROM {base}
COPY doubles/slowed_by_ten_percent.py /usr/local/lib/python3.11/dist-packages/
RUN echo 'import slowed_by_ten_percent  # TEST DOUBLE: this image is slowed on purpose' \\
    > /usr/local/lib/python3.11/dist-packages/zz-slowed-by-ten-percent.pth
"""


def test_against_an_image_slowed_by_ten_percent(
    reference_images: dict[str, str], build_image: ImageFactory, tmp_path: Path, docker_client: docker.DockerClient
) -> None:
    """test_new_no_slower_than_old: the slowed image as the new release against the reference
    fails with the ratio; the reference against itself passes."""
    prerequisite(os.geteuid() == 0, "the benchmarks pin CPUs and chroot: needs root")
    reference = reference_images["cpu"]
    slowed = build_image("cpu-slowed-by-ten-percent", SLOWED.format(base=reference))
    runs = {}
    for name, new in (("slowed", slowed), ("itself", reference)):
        (tmp_path / name).mkdir()
        runs[name] = run_suite(
            tmp_path / name, "--manifest", str(REFERENCE), "--image", f"cpu={new}", "--against", f"cpu={reference}",
            "-k", "interp or import", target=ROOT / "benchmarks" / "test_against.py", timeout=300,
        )  # fmt: skip
    bad = runs["slowed"]
    assert bad.ret == 1, bad.stdout[-3000:]
    message = bad.messages()["test_new_no_slower_than_old[cpu-interp]"]
    assert "new slower than allowed: cpu: against cpu interp: new/old = 1.0" in message or (
        "new slower than allowed: cpu: against cpu interp: new/old = 1.1" in message
    ), message
    assert f"new {slowed} against old {reference}" in message, message
    good = runs["itself"]
    outcomes = good.outcomes()
    assert outcomes["test_new_no_slower_than_old[cpu-interp]"] == "passed", good.stdout[-3000:]
    assert good.bench is not None
    interp = next(c for c in good.bench["comparisons"] if c["group"] == "against cpu interp")
    assert 0.97 < interp["verdict"]["ratio"] < 1.03, interp["verdict"]
    imports = next(c for c in good.bench["comparisons"] if c["group"] == "against cpu import")
    assert len(imports["a"]) == len(imports["b"]) >= 5, imports
    for run in runs.values():
        assert run.summary is not None
        assert leftovers(docker_client, run.summary["notes"]["session"]) == []


def test_history_compare_trips_on_a_quota(reference_images: dict[str, str], run_bench: Callable[..., InnerRun]) -> None:
    """What pytest-benchmark saves includes the container's time per bare-metal second, pair by
    pair, stalls included: a run under a quota, compared with a clean saved one, trips
    --benchmark-compare-fail on it as the gate does, however fast the machine was in either run
    (here its speed moves by 0.66-1.39x between two runs: the absolute rows alone missed a 25% quota)."""
    clean = run_bench("--benchmark-save", "clean", "--benchmark-storage", "file://history")
    row = "test_cpu_container_seconds_per_bare_metal_second[cpu-interp]"
    assert clean.outcomes()[row] == "passed", clean.stdout[-3000:]
    quota = run_bench(
        "--bench-cpus", "0.8", "--benchmark-storage", "file://history",
        "--benchmark-compare", "0001", "--benchmark-compare-fail", "median:10%",
    )  # fmt: skip
    assert clean.bench is not None, clean.stdout[-3000:]
    assert quota.bench is not None, quota.stdout[-3000:]
    moved = quota.bench["comparisons"][0]["a_median"] / clean.bench["comparisons"][0]["a_median"]
    assert quota.ret != 0, quota.stdout[-3000:]
    output = quota.stdout + quota.stderr  # pytest-benchmark reports a regression on stderr
    assert "Performance has regressed:" in output, (f"bare metal's median moved x{moved:.2f}", output[-3000:])
    regressed = output[output.index("Performance has regressed:") :][:1500]
    assert f"{row} (0001_clean) - Field 'median' has failed" in regressed, regressed


def test_calibrate_measures_each_place_against_itself(
    reference_images: dict[str, str], run_bench: Callable[..., InnerRun]
) -> None:
    """--calibrate: bare metal against itself and the container against itself, each near 1.0
    (test_a_place_against_itself_is_unbiased); the gate's verdict says what it chose from them."""
    run = run_bench("--calibrate", target=ROOT / "benchmarks")
    unbiased = [f"test_a_place_against_itself_is_unbiased[cpu-{p}-interp]" for p in ("bare-metal", "container")]
    if run.summary is not None and any(run.outcomes().get(t) == "failed" for t in unbiased):
        # One A/A run on this shared 2-core VM read 1.7% of bias (limit 1%) where every run before
        # read under 1% (2026-12-03): measured again once; a second biased run fails the test.
        run = run_bench("--calibrate", target=ROOT / "benchmarks")
    assert run.bench is not None, run.stdout[-3000:]
    groups = {c["group"]: c for c in run.bench["comparisons"]}
    for place in ("bare-metal", "container"):
        aa = groups[f"calibrate {place} cpu interp"]["verdict"]
        assert 0.95 < aa["ratio"] < 1.05, aa
    outcomes = run.outcomes()
    for place in ("bare-metal", "container"):
        assert outcomes[f"test_a_place_against_itself_is_unbiased[cpu-{place}-interp]"] == "passed", run.stdout[-3000:]
    calibration = json.loads((run.path / "reports" / "calibration.json").read_text())
    assert set(calibration["cpu"]["measured"]) == {"interp"}, calibration
    gate = groups["cpu cpu interp"]["verdict"]["describe"]
    saved = calibration["cpu"]
    interp = saved["measured"]["interp"]
    # The gate's plan is the calibration saved, not one recomputed (its time, its numbers).
    chose = f"[calibrated {saved['written'][:16]}: A/A bias {interp['bias'] * 100:+.1f}%, spread {interp['spread'] * 100:.1f}%"
    assert chose in gate, (chose, gate)
    assert " pairs, threshold " in gate, gate
