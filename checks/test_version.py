"""`paddle version` works offline and tells the truth: version, build lines, GPU support."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.contract("carries.paddle")  # not of a build image (no paddle)


def test_paddle_version_exits_0_offline(variant: Variant, facts: ImageFacts) -> None:
    run = facts.version_run
    assert run["error"] is None, f"{variant.name}: `paddle version` did not run: {run['error']}"
    assert run["rc"] == 0, f"{variant.name}: `paddle version` exited with {run['rc']}: {run['stderr'].strip()[-300:]!r}"


def test_paddle_version_prints_version_and_build(variant: Variant, facts: ImageFacts) -> None:
    parsed, out = facts.paddle_version, facts.version_run["stdout"].strip()
    assert parsed.version, f"{variant.name}: `paddle version` printed no 'PaddlePaddle <version>' line: {out[:300]!r}"
    missing = [line for line in variant.runtime.build_lines if line not in parsed.build]
    assert not missing, f"{variant.name}: `paddle version` lacks the build line(s) {missing}: {out[:300]!r}"


def test_with_gpu_matches_flavour(variant: Variant, facts: ImageFacts) -> None:
    expected = "ON" if variant.flavour == "gpu" else "OFF"
    found = facts.paddle_version.build.get("with_gpu")
    assert found == expected, (
        f"{variant.name}: `paddle version` says with_gpu: {found}, a {variant.flavour} image needs {expected}"
    )


@pytest.mark.contract("expected_version")
def test_version_matches_tag(variant: Variant, facts: ImageFacts) -> None:
    found = facts.paddle_version.version
    assert found == variant.expected_version, (
        f"{variant.name}: `paddle version` says {found}, the tag {variant.tag} says {variant.expected_version}"
    )


def test_launcher_and_package_agree(variant: Variant, facts: ImageFacts) -> None:
    launcher = facts.paddle_version.version
    package = (facts.imports.get("paddle") or {}).get("version")
    assert launcher == package, f"{variant.name}: `paddle version` says {launcher}, the paddle package says {package}"
