"""CPU compute in the container is "not seriously affected": container vs bare metal, same bits."""

from collections.abc import Callable
from typing import Any

import pytest

from paddle_verify.bench.cpu import CPU_WORKLOADS
from paddle_verify.bench.log import Comparison
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.flavour("cpu")


@pytest.mark.parametrize("workload", CPU_WORKLOADS)
@pytest.mark.parametrize("place", ["bare-metal", "container"])
def test_cpu_compute(
    benchmark: Any,
    variant: Variant,
    workload: str,
    place: str,
    cpu_results: Callable[[Variant], dict[str, Comparison]],
    replay: Callable[..., None],
) -> None:
    comp = cpu_results(variant)[workload]
    if comp.error:
        pytest.fail(f"{variant.name}: {workload}: {comp.error}")
    # The time per round with the stalls of sustained load: a history compare sees a quota too.
    side = "a" if place == "bare-metal" else "b"
    extra = {"place": place, "context": comp.context, "stall_factor": comp.stall(side)}
    replay(benchmark, comp.effective(side), comp.group, extra)


@pytest.mark.parametrize("workload", CPU_WORKLOADS)
def test_cpu_container_seconds_per_bare_metal_second(
    benchmark: Any,
    variant: Variant,
    workload: str,
    cpu_results: Callable[[Variant], dict[str, Comparison]],
    replay: Callable[..., None],
) -> None:
    """For the history: the container's time for what takes bare metal one second, pair by pair,
    stalls included (1.0 s: no overhead). Unlike the absolute rows above it compares two runs
    whatever the machine's speed in each."""
    comp = cpu_results(variant)[workload]
    if comp.error:
        pytest.fail(f"{variant.name}: {workload}: {comp.error}")
    extra = {"context": comp.context, "stall_ratio": comp.stall("b") / comp.stall("a")}
    replay(benchmark, comp.per_a_second(), f"{comp.group}: container seconds per bare-metal second", extra)


@pytest.mark.parametrize("workload", CPU_WORKLOADS)
def test_cpu_overhead_within_threshold(
    variant: Variant,
    workload: str,
    cpu_results: Callable[[Variant], dict[str, Comparison]],
    gate: Callable[[Variant, Comparison], None],
) -> None:
    gate(variant, cpu_results(variant)[workload])
