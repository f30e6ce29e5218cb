"""What the launcher and the kernel say of themselves, parsed: ``paddle version``'s version and
build lines (by the contract's pattern), the kernel's release, an image reference's repository."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class PaddleVersion:
    """``paddle version`` output, parsed with the contract's pattern."""

    version: str | None
    build: dict[str, str]


def parse_version(output: str, pattern: str) -> PaddleVersion:
    m = re.search(pattern, output, re.M)
    build = dict(re.findall(r"^\s*(with_\w+)\s*:\s*(\S+)\s*$", output, re.M))
    return PaddleVersion(version=m.group("version") if m else None, build=build)


def parse_kernel(release: str) -> tuple[int, int]:
    """``6.18.44-fc-v657`` -> ``(6, 18)``; ``(0, 0)`` when unreadable."""
    m = re.match(r"^(\d+)\.(\d+)", release or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def repository(ref: str) -> str:
    """``registry:5000/team/paddle:3.3.1-cpu`` (or ``...@sha256:...``) -> ``registry:5000/team/paddle``,
    as the engine names it in ``RepoDigests`` (Docker Hub's names short: ``docker.io/library/x`` -> ``x``)."""
    name = ref.partition("@")[0]
    head, colon, tag = name.rpartition(":")
    name = head if colon and "/" not in tag else name
    return name.removeprefix("docker.io/").removeprefix("library/") if name.startswith("docker.io/") else name
