"""The candidate files of the probe's secret walk, read through the engine and judged on the host.

The probe (``inimage/secrets.py``) names the small text files that may hold a secret by its value
(a token's prefix, a password in a URL, a secret's name set to something); it never prints their
content. Here each one is copied out of the keep-alive container (``docker cp``: the engine's
archive API, no exec), at most :data:`READ_LIMIT` bytes, held in memory only while the rules of
:mod:`.values` run over it, and never printed or stored: a finding names the file and the rule.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Iterable
from typing import cast

import docker.errors
import requests
from docker.models.containers import Container

from .schema import Probe, SecretFile, SecretScan
from .values import text_findings

READ_LIMIT = 65536  # the probe's own limit: bigger files are not candidates
ARCHIVE_LIMIT = READ_LIMIT + 4096  # the file and its tar header


def read_bounded(container: Container, path: str) -> bytes | None:
    """The bytes of the regular file ``path`` in ``container`` (None: absent, too big, not a file)."""
    try:
        stream, stat = container.get_archive(path)
    except (docker.errors.APIError, requests.exceptions.RequestException):
        return None
    if int((stat or {}).get("size", 0)) > READ_LIMIT:
        return None
    data = bytearray()
    for chunk in stream:
        data.extend(chunk)
        if len(data) > ARCHIVE_LIMIT:
            return None
    with tarfile.open(fileobj=io.BytesIO(bytes(data))) as tar:
        member = next((m for m in tar.getmembers() if m.isfile()), None)
        handle = tar.extractfile(member) if member else None
        return handle.read(READ_LIMIT) if handle else None


def judge(container: Container, paths: Iterable[str]) -> tuple[list[SecretFile], list[str]]:
    """The findings in the candidate files (the file and the rules, never the value), and the
    candidates that could not be read."""
    found: list[SecretFile] = []
    unread: list[str] = []
    for path in paths:
        data = read_bounded(container, path)
        if data is None:
            unread.append(path)
            continue
        rules = text_findings(data.decode("utf-8", "replace"))
        del data  # the content goes no further than this function
        if rules:
            found.append({"path": path, "what": "a " + ", a ".join(rules) + " (by its value)"})
    return found, unread


def add_file_values(container: Container, scan: SecretScan) -> None:
    """Judge ``scan``'s candidates and add their findings to it (``unread``: those not readable)."""
    found, unread = judge(container, scan.get("candidates") or [])
    scan["findings"].extend(found)
    scan["unread"] = unread


def judge_candidates(container: Container, probe: Probe) -> None:
    """The probe's secret walk (when it finished): its candidates judged, their findings added."""
    scan = probe.get("secrets")
    if isinstance(scan, dict) and "findings" in scan:
        add_file_values(container, cast(SecretScan, scan))
