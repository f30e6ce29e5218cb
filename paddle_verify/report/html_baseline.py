"""``report.html``'s section on what changed since ``--baseline``, per variant: packages, build
lines, size, timings, the SBOM's components (``notes.baseline``; empty without a baseline). Everything escaped."""

from __future__ import annotations

import html
from typing import Any

esc = html.escape


def _packages(diff: dict[str, Any] | None) -> str:
    if diff is None:
        return "?"
    added = ", ".join(f"+{n} {v}" for n, v in diff["added"].items())
    removed = ", ".join(f"-{n} {v}" for n, v in diff["removed"].items())
    changed = ", ".join(f"{n} {a} -> {b}" for n, (a, b) in diff["changed"].items())
    return esc("; ".join(p for p in (added, removed, changed) if p) or "no change")


def _timings(diff: dict[str, Any]) -> str:
    return esc("; ".join(f"{k}: {a} -> {b}" for k, (a, b) in diff["timings"].items()))


def _sbom(diff: dict[str, Any] | None) -> str:
    if not diff:
        return "?"
    added = ", ".join(f"+{k} {v}" for k, v in diff["added"].items())
    removed = ", ".join(f"-{k} {v}" for k, v in diff["removed"].items())
    changed = ", ".join(f"{k} {a} -> {b}" for k, (a, b) in diff["changed"].items())
    return esc("; ".join(p for p in (added, removed, changed) if p) or "no change")


def baseline_html(summary: dict[str, Any]) -> str:
    since = summary.get("notes", {}).get("baseline")
    if not since:
        return ""
    rows = "".join(
        f"<tr><th>{esc(v)}</th><td>{_packages(d['python'])}</td><td>{_packages(d['debian'])}</td>"
        f"<td>{esc(', '.join(f'{k}: {a} -> {b}' for k, (a, b) in d['build'].items()) or 'no change')}</td>"
        f"<td>{esc(str(d['size'][0]))} -> {esc(str(d['size'][1]))} ({esc(str(d['growth_percent']))}%)</td>"
        f"<td>{_timings(d)}</td><td>{_sbom(d.get('sbom'))}</td></tr>"
        for v, d in since["variants"].items()
    )
    return (
        f'<h2>Since the baseline {esc(since["path"])}</h2>\n<table id="baseline"><tr><th>variant</th>'
        "<th>Python packages</th><th>Debian packages</th><th>build lines</th><th>size (bytes)</th>"
        f"<th>timings (s)</th><th>SBOM components</th></tr>{rows}</table>\n"
    )
