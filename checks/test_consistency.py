"""All variants of one tag carry the same paddle: the same version and commit."""

import pytest

from paddle_verify.facts import FactMissing, ImageFacts
from paddle_verify.manifest import Variant


def _build(f: ImageFacts) -> tuple[str | None, str | None] | None:
    try:
        paddle = f.imports.get("paddle") or {}
    except FactMissing:
        return None
    return paddle.get("version"), paddle.get("commit")


def test_same_paddle_as_the_other_variants(variant: Variant, facts: ImageFacts, all_facts: list[ImageFacts]) -> None:
    paddle = facts.imports.get("paddle") or {}
    mine = (paddle.get("version"), paddle.get("commit"))
    assert mine[0], f"{variant.name}: the paddle package reports no version"
    others = {f.name: _build(f) for f in all_facts if f.name != variant.name}
    # A variant whose paddle reports no version fails its own check, not everyone's.
    others = {k: v for k, v in others.items() if v is not None and v[0]}
    if not others:
        pytest.skip(f"{variant.name}: no other variant of tag {variant.tag} to compare with")
    differ = {k: v for k, v in others.items() if v != mine}
    assert not differ, f"{variant.name}: paddle {mine[0]} (commit {mine[1]}) differs from {differ}"
