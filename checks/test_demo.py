"""Demo images carry what the demos need, and a small demo trains with real paddle.

The demo tools (wget, unzip, ...) are checked with the other commands in test_launcher.py.
"""

import math

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.role("demo")


def test_demo_package_imports(variant: Variant, demo_package: str, facts: ImageFacts) -> None:
    found = facts.package(demo_package)
    assert found["ok"], f"{variant.name}: demo dependency {demo_package} does not import: {found['error']}"


@pytest.mark.contract("demo.train")
def test_demo_trains_and_loss_goes_down(variant: Variant, facts: ImageFacts) -> None:
    run, data = facts.demo_train
    demo = variant.demo.train if variant.demo else None
    losses = data["losses"] if data else None
    assert losses, f"{variant.name}: demo {demo} did not train: {run.get('error') or run['stderr'].strip()[-300:]!r}"
    assert all(math.isfinite(x) for x in losses), f"{variant.name}: demo {demo} loss is not finite: {losses}"
    assert losses[-1] < 0.5 * losses[0], (
        f"{variant.name}: demo {demo} loss did not go down: {losses[0]:.4f} -> {losses[-1]:.4f}"
    )
