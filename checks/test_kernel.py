"""Docker needs a host kernel of at least 3.10, and a container runs on that kernel."""

from typing import Any

import pytest

from paddle_verify.facts import ImageFacts, parse_kernel
from paddle_verify.manifest import Variant

MIN_KERNEL = (3, 10)


@pytest.mark.about_host
def test_host_kernel_at_least_3_10(variant: Variant, engine_info: dict[str, Any]) -> None:
    release = engine_info.get("KernelVersion", "")
    assert parse_kernel(release) >= MIN_KERNEL, (
        f"{variant.name}: the Docker host's kernel is {release!r}; the install page needs at least 3.10"
    )


def test_container_sees_host_kernel(variant: Variant, facts: ImageFacts, engine_info: dict[str, Any]) -> None:
    inside, host = facts.kernel, engine_info.get("KernelVersion")
    assert inside == host, f"{variant.name}: the container reports kernel {inside!r}, the host {host!r}"
