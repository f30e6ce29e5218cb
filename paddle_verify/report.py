"""Reports: ``summary.json`` (one row per check) and ``report.html`` for people.

JUnit XML is pytest's own (``--junitxml``, set to ``<report-dir>/junit.xml`` by
default); the variant and the engine of each test are ``<property name="variant">`` and
``<property name="engine">`` there, each engine's fingerprint a property of the test suite.
With several engines (``--engine``) the columns are ``variant@engine``.
The fault of a failure (``image``, ``host`` or ``suite``: ``plugin/outcomes.py``) is a
``<property name="fault">``.
"""

from __future__ import annotations

import html
import json
import time
from pathlib import Path
from typing import Any

import pytest

from .engine.fingerprint import describe

FAULTS = ("image", "host", "suite")  # whose a failure is (plugin/outcomes.py)


def _check_name(nodeid: str) -> str:
    """``checks/test_version.py::test_version_matches_tag[cpu]`` -> ``test_version_matches_tag``."""
    return nodeid.split("::")[-1].split("[")[0]


def _message(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2])
    if isinstance(report.longrepr, str):  # a missing fact: its reason alone (plugin/outcomes.py)
        return report.longrepr.strip()
    crash = getattr(report.longrepr, "reprcrash", None)
    if crash is not None:
        return str(crash.message)
    return str(report.longrepr).strip().splitlines()[-1] if report.longrepr else ""


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


class Recorder:
    """Collects one row per check (on the controller under xdist) and writes the reports."""

    def __init__(self, report_dir: Path, *, manifest: str, enabled: bool = True) -> None:
        self.report_dir = report_dir
        self.manifest = manifest
        self.enabled = enabled
        self.rows: list[dict[str, Any]] = []
        self.notes: dict[str, Any] = {}
        self.files: dict[str, Any] = {}  # more JSON reports, by file name (facts.json)
        self.started = time.time()

    def note(self, key: str, value: Any) -> None:
        self.notes[key] = value

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if (
            report.when == "call"
            or (report.when == "setup" and not report.passed)
            or (report.when == "teardown" and report.failed)
        ):
            props = dict(report.user_properties)
            if "variant" not in props:  # not a check of an image (e.g. the suite's own tests)
                return
            outcome: str = report.outcome
            if report.when != "call" and report.failed:
                outcome = "error"
            self.rows.append(
                {
                    "variant": props.get("variant"),
                    "engine": props.get("engine"),
                    "check": _check_name(report.nodeid),
                    "nodeid": report.nodeid,
                    "outcome": outcome,
                    "message": _message(report),
                    "fault": props.get("fault") if outcome in ("failed", "error") else None,
                    "duration": round(report.duration, 3),
                }
            )

    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.enabled or not (self.rows or self.notes):
            return
        self.report_dir.mkdir(parents=True, exist_ok=True)
        summary = {
            "manifest": self.manifest,
            "exit_status": int(session.exitstatus),  # EXIT_HOST when every failure is the host's
            "wall_seconds": round(time.time() - self.started, 3),
            "totals": self.totals(),
            "faults": self.faults(),
            "notes": self.notes,
            "results": self.rows,
        }
        (self.report_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (self.report_dir / "report.html").write_text(render_html(summary), encoding="utf-8")
        for name, data in self.files.items():
            (self.report_dir / name).write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")

    def totals(self) -> dict[str, dict[str, int]]:
        return totals(self.rows)

    def faults(self) -> dict[str, int]:
        return faults(self.rows)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.enabled or not (self.rows or self.notes.get("stopped")):
            return
        tr = terminalreporter
        tr.section("paddle-verify")
        if self.notes.get("stopped"):
            tr.write_line(f"STOPPED: {self.notes['stopped']}", red=True, bold=True)
        for variant, counts in self.totals().items():
            cost = self.notes.get("variants", {}).get(variant, {})
            extra = f"  ({cost['execs']} exec, facts in {cost['seconds']:.1f}s)" if cost else ""
            tr.write_line(f"{variant:>12}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + extra)
        faults = self.faults()
        if sum(faults.values()):
            tr.write_line("failures: " + ", ".join(f"{n} the {whose}'s" for whose, n in faults.items()))
            if set(k for k, n in faults.items() if n) == {"host"}:
                tr.write_line(
                    "every failure is the host's (not the image's): the run exits with 8", red=True, bold=True
                )
        since = self.notes.get("baseline")
        if since:
            tr.write_line(f"since the baseline {since['path']}:")
            for variant, diff in since["variants"].items():
                tr.write_line(f"{variant:>12}: {diff['line']}")
        if self.notes.get("swept"):
            tr.write_line(f"swept {self.notes['swept']} leftover resource(s) of dead sessions")
        more = "".join(f", {name}" for name in self.files)
        tr.write_line(f"reports: {self.report_dir}/summary.json, report.html, junit.xml{more}")


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
