"""The manifest's accepted findings: ``[secrets] allow`` and ``[pip_check] allow``, each with its reason.

::

    [secrets]
    allow = [
      { name = "HF_TOKEN", reason = "a read-only token of the public demo space" },
      { path = "/etc/ssl/private/", reason = "the snakeoil key of ssl-cert" },
    ]

    [pip_check]
    allow = [{ package = "foo", reason = "its requirement bar is vendored" }]

A secret is accepted by the variable (``name``: in ENV and in history lines) or the file
(``path``; one ending in ``/`` accepts what is under it); a broken requirement by the package that
declares it. Accepted findings do not fail their checks; the report lists them with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import Accepted, ManifestError


def _entries(path: Path, section: str, table: Any, keys: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(table, dict) or set(table) - {"allow"}:
        raise ManifestError(path, section, "must be a table with one field, allow")
    allow = table.get("allow", [])
    if not isinstance(allow, list):
        raise ManifestError(path, f"{section}.allow", f"must be a list of tables, not {allow!r}")
    out: dict[str, str] = {}
    for i, entry in enumerate(allow):
        where = f"{section}.allow[{i}]"
        if not isinstance(entry, dict) or set(entry) - {*keys, "reason"}:
            raise ManifestError(path, where, f"must be {{ {' or '.join(keys)} = ..., reason = ... }}, not {entry!r}")
        named = [entry[k] for k in keys if k in entry]
        if len(named) != 1 or not isinstance(named[0], str) or not named[0].strip():
            raise ManifestError(path, where, f"needs exactly one of {', '.join(keys)} (a non-empty string)")
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise ManifestError(path, where, "needs a reason (why the finding is accepted)")
        out[named[0]] = reason
    return out


def read(path: Path, top: Mapping[str, Any]) -> Accepted:
    """``[secrets]`` and ``[pip_check]`` of a manifest's top table (both optional)."""
    secrets = _entries(path, "secrets", top.get("secrets", {}), ("name", "path"))
    pips = _entries(path, "pip_check", top.get("pip_check", {}), ("package",))
    return Accepted(secrets=secrets, pip_check={k.lower().replace("_", "-"): v for k, v in pips.items()})
