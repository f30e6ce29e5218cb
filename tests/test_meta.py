"""Every check is proven able to fail: the table of proofs (tests/contract.py) against the code.

The checks are found by reading ``checks/`` and ``benchmarks/`` (every ``def test_*``); each must
have an entry, each entry a check, each proof must hold: a defect that exists and names the check
among its expected failures (the broken-image self-tests run it), a self-test that exists and
names the check, or a reason. The meta-test is shown failing too: without any one entry, and
with a check that has none.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .contract import TABLE
from .defects import ALL_DEFECTS, Defect

ROOT = Path(__file__).resolve().parents[1]
TESTS = ROOT / "tests"


def checks_in(*folders: Path) -> set[str]:
    """The name of every check function (``def test_*`` at module level) in the folders' modules."""
    names: set[str] = set()
    for folder in folders:
        for module in sorted(folder.glob("test_*.py")):
            tree = ast.parse(module.read_text(encoding="utf-8"))
            names |= {n.name for n in tree.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")}
    return names


def selftests() -> dict[str, tuple[set[str], str]]:
    """``{file::function: (its module's test functions, the module's text)}`` of tests/."""
    found: dict[str, tuple[set[str], str]] = {}
    for module in sorted(TESTS.glob("test_*.py")):
        text = module.read_text(encoding="utf-8")
        functions = {n.name for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}
        found[module.name] = (functions, text)
    return found


def problems(
    checks: set[str], table: dict[str, tuple[str, ...]], defects: list[Defect], tests: dict[str, tuple[set[str], str]]
) -> list[str]:
    """What keeps the table from proving that every check can fail (empty when it does)."""
    out = [f"{c}: no entry in tests/contract.py (how is it made to fail?)" for c in sorted(checks - set(table))]
    out += [f"{c}: in tests/contract.py, but no such check" for c in sorted(set(table) - checks)]
    by_name = {d.name: d for d in defects}
    for check, proofs in sorted(table.items()):
        if not proofs:
            out.append(f"{check}: an entry without a proof")
        for proof in proofs:
            kind, _, what = proof.partition(":")
            if kind == "defect":
                defect = by_name.get(what)
                if defect is None:
                    out.append(f"{check}: {proof}: no such defect in tests/defects.py")
                elif not any(f.startswith(f"{check}[") for f in defect.fails):
                    out.append(f"{check}: {proof}: the defect does not expect this check to fail")
            elif kind == "selftest":
                module, _, function = what.partition("::")
                functions, text = tests.get(module, (set(), ""))
                if function not in functions:
                    out.append(f"{check}: {proof}: no such self-test")
                elif check not in text:
                    out.append(f"{check}: {proof}: the self-test's module never names the check")
            elif kind != "cannot" or len(what) < 20:
                out.append(f"{check}: {proof}: a proof is defect:NAME, selftest:FILE::FUNCTION or cannot:REASON")
    return out


CHECKS = checks_in(ROOT / "checks", ROOT / "benchmarks")


def test_every_check_is_proven_able_to_fail() -> None:
    assert CHECKS, "no checks found"
    found = problems(CHECKS, TABLE, ALL_DEFECTS, selftests())
    assert not found, "\n".join(found)


@pytest.mark.parametrize("check", sorted(TABLE))
def test_without_its_entry_a_check_turns_the_meta_test_red(check: str) -> None:
    table = {k: v for k, v in TABLE.items() if k != check}
    assert f"{check}: no entry in tests/contract.py (how is it made to fail?)" in problems(
        CHECKS, table, ALL_DEFECTS, selftests()
    )


def test_a_new_check_without_an_entry_turns_the_meta_test_red() -> None:
    found = problems(CHECKS | {"test_brand_new_promise"}, TABLE, ALL_DEFECTS, selftests())
    assert found == ["test_brand_new_promise: no entry in tests/contract.py (how is it made to fail?)"]


def test_a_proof_that_does_not_prove_turns_the_meta_test_red() -> None:
    table = {**TABLE, "test_python_headers": ("defect:launcher-missing",)}
    assert problems(CHECKS, table, ALL_DEFECTS, selftests()) == [
        "test_python_headers: defect:launcher-missing: the defect does not expect this check to fail"
    ]
    table = {**TABLE, "test_source_tree": ("selftest:test_doubles.py::test_no_such_function",)}
    assert problems(CHECKS, table, ALL_DEFECTS, selftests()) == [
        "test_source_tree: selftest:test_doubles.py::test_no_such_function: no such self-test"
    ]
    table = {**TABLE, "test_tool_runs": ("cannot:",)}
    assert len(problems(CHECKS, table, ALL_DEFECTS, selftests())) == 1


def test_every_defect_is_in_the_table() -> None:
    """No broken image is built for nothing: each proves some check."""
    used = {p.partition(":")[2] for proofs in TABLE.values() for p in proofs if p.startswith("defect:")}
    assert {d.name for d in ALL_DEFECTS} - used == set()
