"""docs/test-index.md names every module of paddle_verify, and only test files that exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT / "docs" / "test-index.md"
ROW = re.compile(r"^\| `(paddle_verify/[^`]+\.py)` \| (.+) \|$", re.M)


def test_every_module_is_named_in_the_test_index() -> None:
    named = {m.group(1) for m in ROW.finditer(INDEX.read_text())}
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "paddle_verify").rglob("*.py")}
    assert modules - named == set(), f"{INDEX.name}: modules without a row: {sorted(modules - named)}"
    assert named - modules == set(), f"{INDEX.name}: rows of modules that do not exist: {sorted(named - modules)}"


def test_the_test_index_names_only_test_files_that_exist() -> None:
    for m in ROW.finditer(INDEX.read_text()):
        tests = re.findall(r"`(tests/[^`]+\.py)`", m.group(2))
        assert tests, f"{INDEX.name}: {m.group(1)} names no test file: {m.group(2)}"
        gone = [t for t in tests if not (ROOT / t).is_file()]
        assert not gone, f"{INDEX.name}: {m.group(1)}: no such test file: {gone}"
