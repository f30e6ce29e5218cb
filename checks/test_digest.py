"""One tag, one image: with --pull on several engines, every engine ran the same repository digest."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.pulled_on_engines  # deselected without --pull or with one engine


def test_same_image_on_every_engine(
    variant: Variant, facts: ImageFacts, facts_on_every_engine: list[ImageFacts]
) -> None:
    facts.inspect  # noqa: B018 - the image itself: a failed pull fails here with the daemon's reason
    mine = facts.repo_digest
    assert mine, f"{variant.name}: engine {variant.engine} pulled {variant.image} but holds no digest of its repository"
    # An engine whose image could not be had fails its own column; it is not compared here.
    others = {f.variant.engine: f.repo_digest for f in facts_on_every_engine if f.variant.engine != variant.engine}
    differ = {engine: digest for engine, digest in others.items() if digest and digest != mine}
    assert not differ, (
        f"{variant.name}: tag {variant.image} resolved to {mine} on engine {variant.engine} but to "
        + ", ".join(f"{digest} on engine {engine}" for engine, digest in sorted(differ.items()))
    )
