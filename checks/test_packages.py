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
    """A 2x2 matmul in the API of the image's own paddle: ``paddle.to_tensor`` and
    ``paddle.matmul`` for 2.x and later, ``paddle.fluid``'s dygraph for 1.x."""
    result = facts.imports["computation"]
    assert result is not None, f"{variant.name}: no paddle computation was tried"
    if result.get("known") is False:
        pytest.skip(f"{variant.name}: not run: no computation known for paddle {result.get('paddle_version')}")
    api = result.get("api", "paddle.matmul")
    assert result["ok"], f"{variant.name}: a paddle matmul ({api}) failed: {result.get('error')}"
    assert result["matmul"] == result["expected"], (
        f"{variant.name}: {api} gave {result['matmul']}, expected {result['expected']}"
    )
