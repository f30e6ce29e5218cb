"""One tag, one image: with several engines, every engine ran the same image (its config digest, the image ID)."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.on_several_engines  # deselected with one engine


def test_same_image_on_every_engine(
    variant: Variant, facts: ImageFacts, facts_on_every_engine: list[ImageFacts]
) -> None:
    facts.inspect  # noqa: B018 - the image itself: a failed pull fails here with the daemon's reason
    # The image ID (the config's digest) is what Docker and Podman agree on; the repository digest each
    # engine records for a pull is its own computation (Podman's differs), so it is named, not compared.
    mine = facts.image_id
    assert mine, f"{variant.name}: engine {variant.engine} holds {variant.image} without an image ID"
    # An engine whose image could not be had fails its own column; it is not compared here.
    others = {f.variant.engine: f for f in facts_on_every_engine if f.variant.engine != variant.engine}
    differ = {engine: f for engine, f in others.items() if f.image_id and f.image_id != mine}
    assert not differ, (
        f"{variant.name}: tag {variant.image} is image {_named(facts)} on engine {variant.engine} but "
        + ", ".join(f"{_named(f)} on engine {engine}" for engine, f in sorted(differ.items()))
    )


def _named(f: ImageFacts) -> str:
    digest = f.repo_digest
    return f"{f.image_id}" + (f" (repository digest {digest})" if digest else "")
