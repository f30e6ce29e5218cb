"""All variants of one tag carry the same paddle: the same version and commit."""

from collections import Counter

import pytest

from paddle_verify.facts import FactMissing, ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.contract("carries.paddle")  # not of a build image (no paddle)

Build = tuple[str | None, str | None]


def _build(f: ImageFacts) -> Build | None:
    try:
        paddle = f.imports.get("paddle") or {}
    except FactMissing:
        return None
    return paddle.get("version"), paddle.get("commit")


def test_same_paddle_as_the_other_variants(variant: Variant, facts: ImageFacts, all_facts: list[ImageFacts]) -> None:
    paddle = facts.imports.get("paddle") or {}
    mine: Build = (paddle.get("version"), paddle.get("commit"))
    assert mine[0], f"{variant.name}: the paddle package reports no version"
    # The other variants of the same tag; one whose paddle reports no version fails its own check.
    others = {f.name: _build(f) for f in all_facts if f.name != variant.name and f.variant.tag == variant.tag}
    builds = {name: b for name, b in others.items() if b is not None and b[0]}
    if not builds:
        pytest.skip(f"{variant.name}: no other variant of tag {variant.tag} to compare with")
    counts = Counter([*builds.values(), mine])
    top = max(counts.values())
    carried = [b for b, n in counts.items() if n == top]
    # The odd one out fails; when no build is carried by most variants, every variant does.
    differ = {name: b for name, b in builds.items() if b != mine}
    assert carried == [mine], (
        f"{variant.name}: paddle {mine[0]} (commit {mine[1]}) differs from the other variants of tag {variant.tag}: "
        f"{differ} (most carry {' or '.join(f'{v} (commit {c})' for v, c in carried)})"
    )
