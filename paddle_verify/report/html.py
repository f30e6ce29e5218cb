"""``report.html``: what a release engineer reads: the checks by variant (and engine), the
engines' fingerprints and totals, the failures with their fault, the diff since a baseline."""

from __future__ import annotations

import html
from typing import Any

from ..engine.fingerprint import describe
from .rows import column, several_engines

NO_FAILURES = '<tr><td colspan="6">none</td></tr>'


def engine_totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Outcome counts per engine."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        per = out.setdefault(row.get("engine") or "-", {})
        per[row["outcome"]] = per.get(row["outcome"], 0) + 1
    return out


def _fingerprint_text(note: dict[str, Any]) -> str:
    if note.get("lost"):
        return f"unreachable: {note['lost']}"
    return describe(note["fingerprint"]) if note.get("fingerprint") else "unknown"


def _baseline_html(summary: dict[str, Any]) -> str:
    """What changed since ``--baseline``, per variant: packages, build lines, size, timings."""
    since = summary.get("notes", {}).get("baseline")
    if not since:
        return ""
    esc = html.escape

    def packages(diff: dict[str, Any] | None) -> str:
        if diff is None:
            return "?"
        added = ", ".join(f"+{n} {v}" for n, v in diff["added"].items())
        removed = ", ".join(f"-{n} {v}" for n, v in diff["removed"].items())
        changed = ", ".join(f"{n} {a} -> {b}" for n, (a, b) in diff["changed"].items())
        return esc("; ".join(p for p in (added, removed, changed) if p) or "no change")

    def timings(diff: dict[str, Any]) -> str:
        shown = [f"{k}: {a} -> {b}" for k, (a, b) in diff["timings"].items()]
        return esc("; ".join(shown))

    rows = "".join(
        f"<tr><th>{esc(v)}</th><td>{packages(d['python'])}</td><td>{packages(d['debian'])}</td>"
        f"<td>{esc(', '.join(f'{k}: {a} -> {b}' for k, (a, b) in d['build'].items()) or 'no change')}</td>"
        f"<td>{esc(str(d['size'][0]))} -> {esc(str(d['size'][1]))} ({esc(str(d['growth_percent']))}%)</td>"
        f"<td>{timings(d)}</td></tr>"
        for v, d in since["variants"].items()
    )
    return (
        f'<h2>Since the baseline {esc(since["path"])}</h2>\n<table id="baseline"><tr><th>variant</th>'
        "<th>Python packages</th><th>Debian packages</th><th>build lines</th><th>size (bytes)</th>"
        f"<th>timings (s)</th></tr>{rows}</table>\n"
    )


def render_html(summary: dict[str, Any]) -> str:
    esc = html.escape
    rows = summary["results"]
    several = several_engines(rows)
    columns = sorted({column(r, several) for r in rows})
    checks = sorted({r["check"] for r in rows})
    grid: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        grid.setdefault((r["check"], column(r, several)), []).append(r)

    def cell(check: str, col: str) -> str:
        results = grid.get((check, col))
        if not results:
            return '<td class="na">—</td>'
        worst = next(
            (o for o in ("error", "failed", "skipped", "passed") if any(x["outcome"] == o for x in results)),
            "passed",
        )
        n_ok = sum(x["outcome"] == "passed" for x in results)
        title = esc("\n".join(x["message"] for x in results if x["message"]))
        return f'<td class="{worst}" title="{title}">{worst} ({n_ok}/{len(results)})</td>'

    failures = "".join(
        f"<tr><td>{esc(r['variant'] or '-')}</td><td>{esc(r.get('engine') or '-')}</td><td>{esc(r['check'])}</td>"
        f"<td>{esc(r['outcome'])}</td>"
        f'<td class="fault-{esc(str(r.get("fault")))}">{esc(str(r.get("fault") or "-"))}</td>'
        f"<td><pre>{esc(r['message'])}</pre></td></tr>"
        for r in rows
        if r["outcome"] in ("failed", "error")
    )
    by_fault = ", ".join(f"{n} the {esc(whose)}'s" for whose, n in (summary.get("faults") or {}).items())
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = "".join(f"<tr><th>{esc(c)}</th>{''.join(cell(c, col) for col in columns)}</tr>" for c in checks)
    notes = summary.get("notes", {}).get("engines", {})
    per_engine = engine_totals(rows)
    engines = "".join(
        f"<tr><th>{esc(name)}</th><td>{esc(str(notes.get(name, {}).get('url', '?')))}</td>"
        f"<td>{esc(', '.join(f'{n} {k}' for k, n in sorted(per_engine.get(name, {}).items())) or 'no checks')}</td>"
        f"<td>{esc(_fingerprint_text(notes.get(name, {})))}</td></tr>"
        for name in sorted(set(notes) | set(per_engine) - {"-"})
    )
    status = "PASSED" if summary["exit_status"] == 0 else f"FAILED (exit {summary['exit_status']})"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>paddle-verify: {esc(status)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; }}
table {{ border-collapse: collapse; margin-bottom: 2em; }}
td, th {{ border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }}
.passed {{ background: #dfd; }} .failed, .error {{ background: #fdd; }} .skipped {{ background: #ffd; }}
.na {{ color: #999; }} pre {{ white-space: pre-wrap; margin: 0; }}
.fault-host {{ background: #ddf; }} .fault-suite {{ background: #fdb; }}
</style></head><body>
<h1>paddle-verify: {esc(status)}</h1>
<p>Manifest {esc(summary["manifest"])}; {len(rows)} checks in {summary["wall_seconds"]:.1f}s.</p>
<h2>Engines</h2>
<table id="engines"><tr><th>engine</th><th>URL</th><th>totals</th><th>fingerprint</th></tr>{engines}</table>
<h2>Checks by {"variant@engine" if several else "variant"}</h2>
<table id="grid"><tr><th>check</th>{head}</tr>{body}</table>
{_baseline_html(summary)}<h2>Failures</h2>
<p>By fault: {by_fault or "none"} (the image's: a check's verdict; the host's: the daemon, memory, GPU, disk,
engine; the suite's: an internal error).</p>
<table id="failures"><tr><th>variant</th><th>engine</th><th>check</th><th>outcome</th><th>fault</th><th>message</th></tr>{failures or NO_FAILURES}</table>
</body></html>
"""
