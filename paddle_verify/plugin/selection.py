"""Which variants this run checks, and which checks apply to each.

The manifest (``--manifest``: a shipped one by name, default ``paddledev``, or a path), the
selected variants (``--variant``, ``--image``, ``--tag``) and the engines (``--engine``)
are read once at configure time (into the run's state, ``run.py``); ``pytest_generate_tests`` turns them into the ``variant``
parameter (with the contract's items: package, subcommand, command, tool, demo_package;
with several engines, each variant once per engine, id ``cpu@NAME``), and a check that
applies to no selected variant is deselected, not skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from ..engine import Engine, default_engine
from ..manifest import Manifest, ManifestError, Variant, load
from ..manifest.shipped import DEFAULT, resolve, shipped
from .run import run_of, variant_of

# Per-item parameters: a check that takes one of these arguments runs once per
# variant and per item the variant's contract lists.
ITEMS: dict[str, Callable[[Variant], Iterable[str]]] = {
    "package": lambda v: v.runtime.packages,
    "subcommand": lambda v: v.runtime.launcher_subcommands,
    "command": lambda v: (
        *((v.runtime.launcher,) if v.carries.paddle else ()),
        *v.runtime.commands,
        *(v.demo.commands if v.demo else ()),
    ),
    "tool": lambda v: v.devel.toolchain if v.devel else (),
    "demo_package": lambda v: v.demo.packages if v.demo else (),
    "cuda_library": lambda v: v.runtime.cuda_libraries if v.flavour == "gpu" else (),
}


def packaged_manifest() -> Path:
    """The install page's contract, shipped with the plugin (the default manifest)."""
    return shipped()[DEFAULT]


def _manifest_path(config: pytest.Config) -> Path:
    """``--manifest``: a shipped manifest's name (``paddlepaddle``), else a path; none: the default."""
    try:
        return resolve(config.getoption("--manifest"), config.invocation_params.dir)
    except LookupError as exc:
        raise pytest.UsageError(str(exc)) from None


def select(config: pytest.Config) -> tuple[Manifest, list[Variant]]:
    """The manifest and the selected variants, or a :class:`pytest.UsageError`."""
    path = _manifest_path(config)
    try:
        manifest = load(path, tag=config.getoption("--tag"))
    except ManifestError as exc:
        raise pytest.UsageError(f"bad manifest: {exc}") from None
    valid = ", ".join([*manifest.variants, "all"])
    names = [n.strip() for arg in config.getoption("--variant") for n in arg.split(",")]
    if any(not n for n in names):
        raise pytest.UsageError(f"--variant: empty variant name (valid: {valid})")
    images: dict[str, str] = {}
    for name, ref in config.getoption("--image"):
        if name not in manifest.variants:
            raise pytest.UsageError(f"--image {name}={ref}: unknown variant {name!r} (valid: {valid})")
        images[name] = ref
    for name, ref in config.getoption("--against", default=[]):
        if name not in manifest.variants:
            raise pytest.UsageError(f"--against {name}={ref}: unknown variant {name!r} (valid: {valid})")
    if not names:
        names = list(images) or ["all"]
    unknown = [n for n in names if n != "all" and n not in manifest.variants]
    if unknown:
        raise pytest.UsageError(f"--variant: unknown variant {', '.join(map(repr, unknown))} (valid: {valid})")
    return manifest, [v.with_image(images[v.name]) if v.name in images else v for v in manifest.select(names)]


def select_engines(config: pytest.Config) -> list[Engine]:
    """The engines of ``--engine`` (the local one when none is given), or a :class:`pytest.UsageError`."""
    given: list[tuple[str, str]] = config.getoption("--engine")
    cert, key = config.getoption("--engine-tls-cert"), config.getoption("--engine-tls-key")
    if bool(cert) != bool(key):
        raise pytest.UsageError("--engine-tls-cert and --engine-tls-key go together (a certificate and its key)")
    names = [name for name, _ in given]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise pytest.UsageError(f"--engine: engine name(s) given twice: {', '.join(twice)} (each NAME once)")
    tls = {"tls_ca": config.getoption("--engine-tls-ca"), "tls_cert": cert, "tls_key": key}
    return [Engine(name, url, **tls) for name, url in given] or [default_engine()]


def _applies(variant: Variant, item: pytest.Function | Any) -> bool:
    for mark in item.iter_markers("role"):
        if not variant.has_role(mark.args[0]):
            return False
    for mark in item.iter_markers("flavour"):
        if variant.flavour != mark.args[0]:
            return False
    builds = variant.devel.builds if variant.devel else ()
    if any(mark.args[0] not in builds for mark in item.iter_markers("devel_build")):
        return False
    return all(_attr_path(variant, mark.args[0]) for mark in item.iter_markers("contract"))


def _attr_path(variant: Variant, path: str) -> Any:
    value: Any = variant
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "variant" not in metafunc.fixturenames:
        return
    run = run_of(metafunc.config)
    variants = run.on_engines(v for v in run.variants if _applies(v, metafunc.definition))
    item_arg = next((name for name in ITEMS if name in metafunc.fixturenames), None)
    if item_arg is None:
        metafunc.parametrize("variant", variants, ids=[v.id for v in variants])
        return
    pairs = [(v, item) for v in variants for item in ITEMS[item_arg](v)]
    metafunc.parametrize(["variant", item_arg], pairs, ids=[f"{v.id}-{item}" for v, item in pairs])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A check that applies to none of the selected variants (a devel check when
    # only runtime variants run) is deselected, not reported as a skip.
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    # So is a comparison of engines in a run with one engine.
    run = run_of(config)
    for item in items:
        uses_variant = "variant" in getattr(item, "fixturenames", ())
        inapplicable = uses_variant and variant_of(item) is None
        inapplicable |= not run.fleet.several and item.get_closest_marker("on_several_engines") is not None
        (drop if inapplicable else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for item in items:
        variant = variant_of(item)
        if variant is not None:
            item.user_properties.append(("variant", variant.name))
            item.user_properties.append(("engine", run.engine_of(variant).name))
