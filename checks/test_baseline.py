"""Since the baseline (--baseline): no package lost or changed in its major version unless declared, build lines kept, size within bounds."""

import pytest

from paddle_verify.facts.baseline import Diff, Packages
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.baseline
KINDS = {"python": "Python", "debian": "Debian"}


def _packages(variant: Variant, since: Diff, kind: str) -> Packages:
    found: Packages | None = getattr(since, kind)
    assert found is not None, f"{variant.name}: the {KINDS[kind]} packages are not in the baseline or in this run"
    return found


def _undeclared(names: dict[str, str], declared: dict[str, str]) -> str:
    return ", ".join(f"{n} {v}" for n, v in names.items() if n not in declared)


@pytest.mark.parametrize("kind", KINDS)
def test_no_package_removed_since_baseline(variant: Variant, since_baseline: Diff, kind: str) -> None:
    removed = _packages(variant, since_baseline, kind).removed
    undeclared = _undeclared(removed, dict(getattr(variant.changes, kind)))
    assert not undeclared, (
        f"{variant.name}: {KINDS[kind]} package(s) removed since the baseline: {undeclared} "
        f"(meant? say why in the manifest's [changes.{kind}])"
    )


@pytest.mark.parametrize("kind", KINDS)
def test_no_major_version_change_since_baseline(variant: Variant, since_baseline: Diff, kind: str) -> None:
    changed = _packages(variant, since_baseline, kind).major_changes
    shown = {n: f"{a} -> {b}" for n, (a, b) in changed.items()}
    undeclared = _undeclared(shown, dict(getattr(variant.changes, kind)))
    assert not undeclared, (
        f"{variant.name}: {KINDS[kind]} package(s) changed their major version since the baseline: {undeclared} "
        f"(meant? say why in the manifest's [changes.{kind}])"
    )


def test_build_lines_unchanged_since_baseline(variant: Variant, since_baseline: Diff) -> None:
    changed = ", ".join(f"{k}: {a} -> {b}" for k, (a, b) in since_baseline.build.items())
    assert not changed, f"{variant.name}: `paddle version`'s build lines changed since the baseline: {changed}"


def test_image_growth_within_limit(variant: Variant, since_baseline: Diff, size_growth: float) -> None:
    growth, (before, now) = since_baseline.growth, since_baseline.size
    assert growth is not None, f"{variant.name}: the image's size is not in the baseline ({before}) or this run ({now})"
    assert growth <= size_growth, (
        f"{variant.name}: the image grew by {growth:.1f}% since the baseline ({before} -> {now} bytes), "
        f"more than --size-growth {size_growth:g}%"
    )
