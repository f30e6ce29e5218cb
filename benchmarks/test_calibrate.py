"""The method itself (``--calibrate``): each place against itself gives 1.0 within 1%.

Bare metal against bare metal, and a container of the image against another: the same on
both sides, so a ratio whose interval lies wholly beyond 1 +- 1% is the method's own bias on
this machine, and the gates' verdicts are not to be trusted to that precision. The same
measurement chooses the gates' pairs and thresholds (see :mod:`paddle_verify.bench.calibration`).
Skipped without ``--calibrate``.
"""

from collections.abc import Callable

import pytest

from paddle_verify.bench.calibration import PLACES, TOLERANCE, biased
from paddle_verify.bench.cpu import CPU_WORKLOADS
from paddle_verify.bench.log import Comparison
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.flavour("cpu")


@pytest.mark.parametrize("workload", CPU_WORKLOADS)
@pytest.mark.parametrize("place", PLACES)
def test_a_place_against_itself_is_unbiased(
    variant: Variant,
    workload: str,
    place: str,
    calibration_results: Callable[[Variant], dict[str, dict[str, Comparison]]],
) -> None:
    comp = calibration_results(variant)[place][workload]
    if comp.error:
        pytest.fail(f"{variant.name}: calibrate: {place}: {workload}: {comp.error}")
    assert comp.verdict is not None
    v = comp.verdict
    assert not biased(v), (
        f"{variant.name}: {place} against itself, {workload}: ratio {v.ratio:.3f} (95% CI {v.low:.3f}-{v.high:.3f}) "
        f"is beyond 1 +- {TOLERANCE:.0%}: the method is biased on this machine; spread {v.spread * 100:.1f}%"
    )
