"""Release against release (``--against VARIANT=REF``): the new image no slower than the old one.

The CPU workloads, ``import paddle`` and the container's start, each paired old/new on one
machine (see :mod:`paddle_verify.bench.against`). Skipped for a variant without ``--against``.
"""

from collections.abc import Callable
from typing import Any

import pytest

from paddle_verify.bench.cpu import CPU_WORKLOADS
from paddle_verify.bench.log import Comparison
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.flavour("cpu")

MEASURES = [*CPU_WORKLOADS, "import", "start"]


@pytest.mark.parametrize("measure", MEASURES)
@pytest.mark.parametrize("side", ["old", "new"])
def test_against_compute(
    benchmark: Any,
    variant: Variant,
    measure: str,
    side: str,
    against_results: Callable[[Variant], dict[str, Comparison]],
    replay: Callable[..., None],
) -> None:
    comp = against_results(variant)[measure]
    if comp.error:
        pytest.fail(f"{variant.name}: against: {measure}: {comp.error}")
    samples = comp.effective("a" if side == "old" else "b")
    replay(benchmark, samples, comp.group, {"side": side, "image": comp.context[side]})


@pytest.mark.parametrize("measure", MEASURES)
def test_new_no_slower_than_old(
    variant: Variant,
    measure: str,
    against_results: Callable[[Variant], dict[str, Comparison]],
    gate: Callable[[Variant, Comparison], None],
) -> None:
    gate(variant, against_results(variant)[measure])
