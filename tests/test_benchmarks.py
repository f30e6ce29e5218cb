"""The benchmark gate can fail: a container under a CPU quota fails it, the clean one does not.

One workload (the single-threaded interpreter loop) keeps these runs short.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from paddle_verify.bench.network import SLOW_CONTAINER_AGENT
from paddle_verify.engine import leftovers

from .conftest import REFERENCE, ROOT, InnerRun, prerequisite, run_suite


@pytest.fixture
def run_bench(tmp_path: Path) -> Callable[..., InnerRun]:
    prerequisite(os.geteuid() == 0, "the bare-metal side chroots: needs root")

    def run(*args: str) -> InnerRun:
        return run_suite(
            tmp_path, "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "interp", "--bench-rounds", "60", *args,
            target=ROOT / "benchmarks" / "test_cpu.py", timeout=300,
        )  # fmt: skip

    return run


def test_cpu_quota_fails_the_gate(reference_images: dict[str, str], run_bench: Callable[..., InnerRun]) -> None:
    run = run_bench("--bench-cpus", "0.5")
    assert run.ret == 1, run.stdout[-3000:]
    msg = run.messages()["test_cpu_overhead_within_threshold[cpu-interp]"]
    assert "container slower than allowed: cpu: cpu cpu interp: container/bare metal = " in msg
    assert "differs: cpu_max bare=" in msg
    assert "container='50000 100000'" in msg
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
    """TEST SEAM: the container-side network agent waits 1 ms per message (and per bulk read):
    --net=host is then slower than bare metal, and the gate says so for latency and throughput."""
    prerequisite(os.geteuid() == 0, "the bare-metal side chroots: needs root")
    run = run_suite(
        tmp_path, "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "host_network",
        target=ROOT / "benchmarks" / "test_network.py", timeout=300,
        env={SLOW_CONTAINER_AGENT: "0.001"},
    )  # fmt: skip
    assert run.ret == 1, run.stdout[-3000:]
    gates = {k: m for k, m in run.messages().items() if k.startswith("test_host_network_matches_bare_metal[")}
    assert len(gates) == 2, gates
    for measure in ("latency", "throughput"):
        (message,) = [m for k, m in gates.items() if measure in k]
        assert f"container slower than allowed: cpu: net cpu {measure} host" in message, message
    assert run.summary is not None
    assert leftovers(docker_client, run.summary["notes"]["session"]) == []
