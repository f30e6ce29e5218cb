"""Devel images (and demo ones) carry a working toolchain, Python headers and the source tree."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.role("devel")


def test_tool_runs(variant: Variant, tool: str, facts: ImageFacts) -> None:
    run = facts.devel["toolchain"][tool]
    argv = " ".join(run["argv"])
    assert run["error"] is None, f"{variant.name}: devel tool {tool} missing: {run['error']}"
    assert run["rc"] == 0, f"{variant.name}: `{argv}` exited with {run['rc']}: {run['stderr'].strip()[-200:]!r}"


def test_python_headers(variant: Variant, facts: ImageFacts) -> None:
    headers = facts.devel["headers"]
    assert headers["python_h"], f"{variant.name}: no Python.h in {headers['include']} (python-dev missing)"


@pytest.mark.contract("devel.source_dirs")
def test_source_tree(variant: Variant, facts: ImageFacts) -> None:
    sources = facts.devel["sources"]
    good = [s for s in sources if s["exists"] and all(s["markers"].values()) and s["files"] > 0]
    found = {
        s["dir"]: ("absent" if not s["exists"] else f"{s['files']} files, markers {s['markers']}") for s in sources
    }
    assert good, f"{variant.name}: no source tree in any of {list(found)}: {found}"
