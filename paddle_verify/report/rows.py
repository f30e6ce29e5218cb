"""The rows of a run (one per check, variant and engine) and what is counted over them."""

from __future__ import annotations

from typing import Any

FAULTS = ("image", "host", "suite")  # whose a failure is (plugin/outcomes.py)


def column(row: dict[str, Any], several: bool) -> str:
    """A row's column: its variant, and its engine in a run (or a merge) of several (``cpu@gpu-a``)."""
    variant = row.get("variant") or "-"
    return f"{variant}@{row.get('engine')}" if several and row.get("engine") else variant


def several_engines(rows: list[dict[str, Any]]) -> bool:
    return len({r.get("engine") for r in rows}) > 1


def totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Outcome counts per column (variant, or variant@engine)."""
    several = several_engines(rows)
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        per = out.setdefault(column(row, several), {})
        per[row["outcome"]] = per.get(row["outcome"], 0) + 1
    return out


def faults(rows: list[dict[str, Any]]) -> dict[str, int]:
    """The failures (and errors) by fault: ``{"image": 2, "host": 0, "suite": 0}``."""
    out = dict.fromkeys(FAULTS, 0)
    for row in rows:
        if row["outcome"] in ("failed", "error"):
            whose = row.get("fault") or "unattributed"
            out[whose] = out.get(whose, 0) + 1
    return out
