"""Every installed package's requirements are installed: `python -m pip check` in the image's Python.

Run by the one probe per variant (no exec of its own); where the image has no pip it is not run,
and says so. The manifest's `[pip_check] allow` accepts a package's broken requirement with its
reason, which the report lists (the `accepted` property).
"""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.facts.pipcheck import parse
from paddle_verify.manifest import Variant


def test_pip_check_finds_no_broken_requirements(
    variant: Variant, facts: ImageFacts, request: pytest.FixtureRequest
) -> None:
    check = facts.pip_check
    if not check["ran"]:
        pytest.skip(f"{variant.name}: not run: {check.get('why', 'no pip in the image')}")
    run = check["result"]
    assert run["error"] is None, f"{variant.name}: `{variant.python} -m pip check` did not run: {run['error']}"
    broken = parse(run["stdout"])
    allow = variant.accepted.pip_check
    for b in broken:
        if b.key in allow:
            request.node.user_properties.append(("accepted", f"pip check: {b}: {allow[b.key]}"))
    found = [str(b) for b in broken if b.key not in allow]
    assert not found, f"{variant.name}: `pip check` finds broken requirements: {'; '.join(found)}"
    assert run["rc"] == 0 or broken, (
        f"{variant.name}: `pip check` exited with {run['rc']} and named nothing: {run['stderr'].strip()[-300:]}"
    )
