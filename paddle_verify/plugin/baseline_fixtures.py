"""The baseline checks' side of the plugin (``--baseline PATH``): the baseline's facts, each
variant's diff since then (``since_baseline``), and the diff in the reports.

A check marked ``baseline`` runs only with ``--baseline`` and only for a variant the baseline
holds (by its id, ``cpu@b``, or its name): it is deselected otherwise, not skipped. The diff
of every gathered variant (its SBOM's components too: ``report/sbom.py``) goes to ``summary.json`` (``notes.baseline``), the terminal and
``report.html`` whether or not a check fails.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ..facts import ImageFacts, baseline, snapshot
from ..manifest import Variant
from ..report import sbom
from .run import RUN_KEY, run_of, variant_of


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "baseline: compares with --baseline (deselected without it, and for a variant it does not hold)"
    )  # the baseline itself is read with the run's state (``lifecycle.py``): the run's ``baseline``


def entry_of(base: dict[str, dict[str, Any]] | None, variant: Variant) -> dict[str, Any] | None:
    """The baseline's facts of ``variant``: by its id (``cpu@b``), else by its name."""
    if base is None:
        return None
    return base.get(variant.id) or base.get(variant.name)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    base = run_of(config).baseline
    drop = [i for i in items if i.get_closest_marker("baseline") and entry_of(base, _variant(i)) is None]
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = [i for i in items if i not in drop]


def _variant(item: pytest.Item) -> Variant:
    variant = variant_of(item)
    if variant is None:
        raise pytest.UsageError(f"{item.nodeid}: a baseline check takes the variant fixture")
    return variant


@pytest.fixture
def since_baseline(variant: Variant, facts: ImageFacts, pytestconfig: pytest.Config) -> baseline.Diff:
    """What changed in ``variant``'s image since the baseline."""
    before = entry_of(run_of(pytestconfig).baseline, variant)
    if before is None:  # deselected above: only a check called by hand gets here
        raise facts.missing(f"the baseline {pytestconfig.getoption('--baseline')} has no variant {variant.id}")
    return baseline.diff(variant.id, before, snapshot.snapshot(facts))


@pytest.fixture
def size_growth(pytestconfig: pytest.Config) -> float:
    """``--size-growth``: how much bigger than the baseline's an image may be, in percent."""
    growth: float = pytestconfig.getoption("--size-growth")
    return growth


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """The diff of every gathered variant for the reports (before the recorder writes them)."""
    config = session.config
    run = config.stash.get(RUN_KEY, None)
    if run is None or run.baseline is None or "facts.json" not in run.recorder.files:
        return
    base, recorder = run.baseline, run.recorder
    diffs = {}
    path = Path(config.invocation_params.dir, config.getoption("--baseline"))
    for vid, now in recorder.files["facts.json"]["variants"].items():
        before = base.get(vid) or base.get(vid.split("@")[0])
        if before is not None:
            diff = baseline.diff(vid, before, now)
            # The SBOM's components: the baseline run's SBOM file beside its facts.json, else its facts'.
            old = sbom.stored(path, vid) or json.loads(sbom.render(vid, before))
            components = sbom.diff(old, json.loads(sbom.render(vid, now)))
            diffs[vid] = {"line": f"{diff.line()}; {sbom.line(components)}", **diff.as_dict(), "sbom": components}
    recorder.note(
        "baseline",
        {
            "path": str(config.getoption("--baseline")),
            "size_growth": config.getoption("--size-growth"),
            "variants": diffs,
        },
    )
