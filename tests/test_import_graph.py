"""The import graph of paddle_verify, module by module: no circle, and the reports never import the plugin.

Read with ``ast`` from the package's files (nothing is imported): an edge for each import at
module level (relative imports resolved; ``from PKG import NAME`` is an edge to ``PKG.NAME``
when that is a module of the package, else to ``PKG``). Imports under ``if TYPE_CHECKING:``
are not edges (they never run), nor are imports inside functions (they run on first call,
after every module has loaded: the way to defer one on purpose).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "paddle_verify"


def module_names(root: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its own name, for its ``__init__``)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = [root.name, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names[".".join(parts)] = path
    return names


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports that run when the module loads: not in functions or classes' methods, not under
    ``if TYPE_CHECKING:`` (its ``else:`` runs)."""
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If):
            if not _type_checking(node.test):
                yield from _module_level(node.body)
            yield from _module_level(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *(h.body for h in node.handlers)):
                yield from _module_level(block)
        elif isinstance(node, ast.With):
            yield from _module_level(node.body)


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports when it loads."""
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in _module_level(ast.parse(path.read_text(), str(path)).body):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else source for a in node.names]
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a non-module attribute: its module
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(root: Path = PACKAGE) -> dict[str, set[str]]:
    modules = module_names(root)
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def reachable(graph: dict[str, set[str]], start: set[str]) -> set[str]:
    seen: set[str] = set()
    todo = list(start)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def test_the_package_has_no_import_circle() -> None:
    found = circles(import_graph())
    assert not found, "import circles among paddle_verify's modules: " + "; ".join(
        " <-> ".join(component) for component in found
    )


def test_the_reports_import_nothing_from_the_plugin() -> None:
    graph = import_graph()
    report = {name for name in graph if name == "paddle_verify.report" or name.startswith("paddle_verify.report.")}
    reached = {n for n in reachable(graph, report) if n.startswith("paddle_verify.plugin")}
    direct = {f"{r} -> {p}" for r in report for p in graph[r] if p.startswith("paddle_verify.plugin")}
    assert not reached, f"paddle_verify.report reaches the plugin: {sorted(reached)} (directly: {sorted(direct)})"


def test_the_graph_sees_relative_imports_and_skips_type_checking(tmp_path: Path) -> None:
    """The reader itself, on a package made here: a circle through a relative import is found, one
    through an ``if TYPE_CHECKING:`` import or a function's import is not."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .a import x\n")
    (pkg / "sub" / "a.py").write_text("from ..b import y\nx = 1\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nfrom .sub import a\ny = 2\nif TYPE_CHECKING:\n    from .c import z\n"
    )
    (pkg / "c.py").write_text("from .b import y\nz = 3\ndef f():\n    from .sub.a import x\n")
    graph = import_graph(pkg)
    assert graph["pkg.sub"] == {"pkg.sub.a"}, graph
    assert graph["pkg.b"] == {"pkg.sub.a"}, graph
    assert graph["pkg.c"] == {"pkg.b"}, graph
    assert circles(graph) == [["pkg.b", "pkg.sub.a"]], circles(graph)
