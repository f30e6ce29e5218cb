"""The contract's Python packages import in the image's Python, and paddle computes."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.contract("carries.paddle")  # not of a build image (no paddle)


def test_package_imports(variant: Variant, package: str, facts: ImageFacts) -> None:
    found = facts.package(package)
    assert found["ok"], f"{variant.name}: `import {package}` fails in {variant.python}: {found['error']}"
    assert found["version"], f"{variant.name}: package {package} imports but reports no version"


@pytest.mark.contract("runtime.py_paddle_init")
def test_py_paddle_initialises(variant: Variant, facts: ImageFacts) -> None:
    init = facts.imports["py_paddle_init"]
    assert init is not None, f"{variant.name}: py_paddle initialisation was not tried"
    assert init["ok"], f"{variant.name}: swig_paddle.initPaddle('--use_gpu=0') failed: {init.get('error')}"


@pytest.mark.contract("runtime.computation")
def test_paddle_computes(variant: Variant, facts: ImageFacts) -> None:
    result = facts.imports["computation"]
    assert result is not None, f"{variant.name}: no paddle computation was tried"
    assert result["ok"], f"{variant.name}: a paddle matmul failed: {result.get('error')}"
    assert result["matmul"] == result["expected"], (
        f"{variant.name}: paddle.matmul gave {result['matmul']}, expected {result['expected']}"
    )
