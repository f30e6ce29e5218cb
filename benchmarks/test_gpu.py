"""GPU compute in the container is "not seriously affected": container vs bare metal, same bits.

Two workloads on GPU 0: a 4096x4096 float32 matmul (its TFLOP/s on both sides are in the
context) and a small MLP training step. Bare metal is the image's own files (chroot) with the
host's device nodes and driver libraries; the container gets the GPUs the ``--gpu-mode`` way.
On a host without a GPU every test is skipped with what was looked at.
"""

from collections.abc import Callable
from typing import Any

import pytest

from paddle_verify.bench.gpu import GPU_WORKLOADS
from paddle_verify.bench.log import Comparison
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.flavour("gpu")


@pytest.mark.parametrize("workload", GPU_WORKLOADS)
@pytest.mark.parametrize("place", ["bare-metal", "container"])
def test_gpu_compute(
    benchmark: Any,
    variant: Variant,
    workload: str,
    place: str,
    gpu_results: Callable[[Variant], dict[str, Comparison]],
    replay: Callable[..., None],
) -> None:
    comp = gpu_results(variant)[workload]
    if comp.error:
        pytest.fail(f"{variant.name}: {workload}: {comp.error}")
    samples = comp.a if place == "bare-metal" else comp.b
    replay(benchmark, samples, comp.group, {"place": place, "context": comp.context})


@pytest.mark.parametrize("workload", GPU_WORKLOADS)
def test_gpu_overhead_within_threshold(
    variant: Variant,
    workload: str,
    gpu_results: Callable[[Variant], dict[str, Comparison]],
    gate: Callable[[Variant, Comparison], None],
) -> None:
    gate(variant, gpu_results(variant)[workload])
