"""Networking: bare-metal loopback vs --net=host vs the bridge vs a published port, in one run.

The install page advises --net=host for fast networks: the host network is
gated against bare metal; the bridge and the published port are measured and
reported (their cost is the NAT and docker-proxy the page warns about).
"""

from collections.abc import Callable
from typing import Any

import pytest

from paddle_verify.bench import netclient
from paddle_verify.bench.log import BenchLog, Comparison
from paddle_verify.manifest import Variant

PATHS = ["loopback", "host", "bridge", "published"]


@pytest.mark.parametrize("path", PATHS)
def test_network_latency(
    benchmark: Any,
    variant: Variant,
    path: str,
    net_results: Callable[[Variant], list[netclient.PathSamples]],
    replay: Callable[..., None],
) -> None:
    samples = {p.name: p for p in net_results(variant)}[path]
    replay(benchmark, samples.round_p50, f"net {variant.name} latency", {"path": samples.description})


@pytest.mark.parametrize("path", PATHS)
def test_network_throughput(
    benchmark: Any,
    variant: Variant,
    path: str,
    net_results: Callable[[Variant], list[netclient.PathSamples]],
    replay: Callable[..., None],
) -> None:
    samples = {p.name: p for p in net_results(variant)}[path]
    per_gib = [(1 << 30) / t for t in samples.throughput]
    replay(benchmark, per_gib, f"net {variant.name} seconds per GiB", {"path": samples.description})


@pytest.mark.parametrize("measure", ["latency", "throughput"])
def test_host_network_matches_bare_metal(
    variant: Variant,
    measure: str,
    net_results: Callable[[Variant], list[netclient.PathSamples]],
    bench_log: BenchLog,
    gate: Callable[[Variant, Comparison], None],
) -> None:
    net_results(variant)
    gate(variant, bench_log.comparisons[f"net {variant.name} {measure} host"])
