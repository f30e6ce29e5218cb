"""``report.html``: what a release engineer reads: the verdict, the engines (URL, totals,
fingerprint), the grid of checks by variant (``variant@engine`` with several engines) with the
totals of each column, the failures (by column, under their engine's fingerprint, each with its
message), the variants reused from a stored run (``--reuse-verdicts``), the diff since a baseline
(html_baseline), and links to the run's benchmark plots.

Everything from the run (names, messages, URLs, paths) is escaped: a message is text, never markup.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote

from ..engine.fingerprint import describe
from ..exits import ExitCode
from .html_baseline import baseline_html
from .rows import column, several_engines

esc = html.escape
OUTCOMES = ("error", "failed", "skipped", "passed")  # worst first
SHOWN = ("error", "failed", "passed", "skipped")  # in totals: the failures first, then the most
EXIT_MEANING = {
    1: "checks failed",
    2: "stopped before the end",
    4: "a usage error",
    ExitCode.DAEMON_UNREACHABLE: "the Docker daemon was unreachable",
    ExitCode.HOST: "every failure is the host's, not the image's",
}
FAULT_NOTE = (
    "the image's: a check's verdict on the image; the host's: the daemon, memory, GPU, disk or engine; "
    "the suite's: an internal error"
)


def engine_totals(rows: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Outcome counts per engine."""
    out: dict[str, dict[str, int]] = {}
    for row in rows:
        per = out.setdefault(row.get("engine") or "-", {})
        per[row["outcome"]] = per.get(row["outcome"], 0) + 1
    return out


def fingerprint_text(note: dict[str, Any]) -> str:
    """An engine's fingerprint in one line, or why there is none."""
    if note.get("lost"):
        return f"unreachable: {note['lost']}"
    try:
        return describe(note["fingerprint"]) if note.get("fingerprint") else "unknown"
    except KeyError as exc:  # a report of another version of the suite (a merged shard)
        return f"incomplete (no {exc})"


def counts_html(counts: dict[str, int]) -> str:
    """``2 failed, 19 passed, 1 skipped``, each outcome in its colour."""
    parts = [f'<span class="n {o}">{counts[o]} {o}</span>' for o in SHOWN if counts.get(o)]
    parts += [f'<span class="n">{n} {esc(o)}</span>' for o, n in sorted(counts.items()) if o not in SHOWN]
    return ", ".join(parts) or "no checks"


def worst(results: list[dict[str, Any]]) -> str:
    return next((o for o in OUTCOMES if any(x["outcome"] == o for x in results)), "passed")


def _failures(rows: list[dict[str, Any]], several: bool, fingerprints: dict[str, str]) -> tuple[str, dict[int, str]]:
    """The failures table's rows: by column, each column's under a row with its engine's fingerprint
    (what a failure of the host depends on), then by check; and each failed row's anchor (by ``id``)."""
    failed = [r for r in rows if r["outcome"] in ("failed", "error")]
    failed.sort(key=lambda r: (column(r, several), r["check"], r["nodeid"]))
    anchors: dict[int, str] = {}
    out: list[str] = []
    last = None
    for r in failed:
        col, engine, fault = column(r, several), r.get("engine") or "-", str(r.get("fault") or "-")
        if col != last:
            out.append(
                f'<tr class="group"><th colspan="5">{esc(col)} on engine {esc(engine)}: '
                f'<span class="fp">{esc(fingerprints.get(engine, "unknown"))}</span></th></tr>'
            )
            last = col
        anchors[id(r)] = anchor = f"failure-{len(anchors) + 1}"
        out.append(
            f'<tr id="{anchor}"><td class="col">{esc(col)}</td><td>{esc(r["check"])}</td>'
            f'<td class="{esc(r["outcome"])}">{esc(r["outcome"])}</td><td class="fault-{esc(fault)}">{esc(fault)}</td>'
            f'<td class="msg"><pre>{esc(r["message"] or "(no message)")}</pre></td></tr>'
        )
    return "".join(out), anchors


def _grid(rows: list[dict[str, Any]], several: bool, fingerprints: dict[str, str], anchors: dict[int, str]) -> str:
    """Checks (rows) by column (variant or variant@engine); a failed cell links to its failure."""
    columns = sorted({column(r, several) for r in rows})
    checks = sorted({r["check"] for r in rows})
    grid: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in rows:
        grid.setdefault((r["check"], column(r, several)), []).append(r)
    engine_of = {column(r, several): r.get("engine") or "-" for r in rows}

    def cell(check: str, col: str) -> str:
        results = grid.get((check, col))
        if not results:
            return '<td class="na">—</td>'
        bad = worst(results)
        n_ok = sum(x["outcome"] == "passed" for x in results)
        title = esc("\n".join(x["message"] for x in results if x["message"]))
        # skipped because another check's failure stands for them (a lost engine, no GPU): not run
        not_run = all(x["outcome"] == "skipped" and "not run: " in (x["message"] or "") for x in results)
        text = f"{'not run' if not_run else bad} ({n_ok}/{len(results)})"
        css = f"{bad} notrun" if not_run else bad
        first = next((anchors[id(x)] for x in results if id(x) in anchors), None)
        if first:
            text = f'<a href="#{first}">{text}</a>'
        return f'<td class="{css}" title="{title}">{text}</td>'

    head = "".join(f'<th title="{esc(fingerprints.get(engine_of[c], ""))}">{esc(c)}</th>' for c in columns)
    body = "".join(f"<tr><th>{esc(c)}</th>{''.join(cell(c, col) for col in columns)}</tr>" for c in checks)
    per_column: dict[str, dict[str, int]] = {}
    for r in rows:
        per = per_column.setdefault(column(r, several), {})
        per[r["outcome"]] = per.get(r["outcome"], 0) + 1
    foot = "".join(f'<td class="totals">{counts_html(per_column[c])}</td>' for c in columns)
    return (
        f'<table id="grid"><thead><tr><th>check</th>{head}</tr></thead><tbody>{body}</tbody>'
        f"<tfoot><tr><th>totals</th>{foot}</tr></tfoot></table>"
    )


def _plots(notes: dict[str, Any]) -> str:
    """Links to the benchmark plots this run wrote (``notes.plots``: paths relative to the report)."""
    plots: list[str] = notes.get("plots") or []
    if not plots:
        return ""
    items = "".join(
        f'<figure><a href="{esc(quote(p))}"><img src="{esc(quote(p))}" alt="{esc(p)}"></a>'
        f'<figcaption><a href="{esc(quote(p))}">{esc(p)}</a></figcaption></figure>'
        for p in plots
    )
    return f'<h2>Benchmark plots</h2>\n<div id="plots">{items}</div>\n'


STYLE = """
body { font-family: sans-serif; margin: 1.5em 2em; color: #222; }
h1 { padding: 0.3em 0.6em; border-radius: 4px; } h1.ok { background: #cfc; } h1.bad { background: #fbb; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { position: sticky; top: 0; background: #eee; }
tfoot td, tfoot th { background: #f4f4f4; border-top: 2px solid #888; }
.passed { background: #dfd; } .failed, .error { background: #fcc; font-weight: bold; } .skipped { background: #ffd; }
.n { white-space: nowrap; padding: 0 3px; border-radius: 3px; } .totals { white-space: nowrap; }
.na, .notrun { color: #777; } .notrun { background: #eee; } pre { white-space: pre-wrap; margin: 0; font-size: 0.9em; }
.fault-host { background: #ddf; } .fault-suite { background: #fdb; }
.fp { font-size: 0.8em; color: #555; font-weight: normal; } #engines .fp { max-width: 50em; }
tr.group th { background: #f4f4f4; padding-top: 0.6em; }
#failures { width: 100%; } .msg { width: 70%; } .col { white-space: nowrap; }
#grid a, .failed a { color: inherit; } .url { font-family: monospace; font-size: 0.9em; }
#plots { display: flex; flex-wrap: wrap; gap: 1em; } figure { margin: 0; } figure img { max-width: 420px; border: 1px solid #ccc; }
"""


def _reused(notes: dict[str, Any]) -> str:
    """The variants reported from a stored run (``--reuse-verdicts``), and a store that was ignored."""
    reused: dict[str, dict[str, str]] = notes.get("reused") or {}
    rows = "".join(
        f"<tr><th>{esc(v)}</th><td>{esc(r['run'])}</td><td>{esc(r['time'])}</td></tr>" for v, r in reused.items()
    )
    ignored = (
        f'<p class="bad">Verdict store ignored: {esc(notes["reuse_ignored"])}</p>' if notes.get("reuse_ignored") else ""
    )
    if not rows:
        return ignored and f"<h2>Reused verdicts</h2>\n{ignored}\n"
    return (
        "<h2>Reused verdicts</h2>\n<p>Passed in a stored run under the same key (image, contract, suite, options, "
        f'engine); no container started.</p>{ignored}\n<table id="reused"><tr><th>variant</th><th>run</th>'
        f"<th>time</th></tr>{rows}</table>\n"
    )


def render_html(summary: dict[str, Any]) -> str:
    rows: list[dict[str, Any]] = summary["results"]
    several = several_engines(rows)
    notes: dict[str, Any] = summary.get("notes", {})
    engine_notes: dict[str, Any] = notes.get("engines", {})
    per_engine = engine_totals(rows)
    names = sorted(set(engine_notes) | set(per_engine) - {"-"})
    fingerprints = {name: fingerprint_text(engine_notes.get(name, {})) for name in names}
    failures, anchors = _failures(rows, several, fingerprints)
    engines = "".join(
        f'<tr id="engine-{esc(name)}"><th>{esc(name)}</th>'
        f'<td class="url">{esc(str(engine_notes.get(name, {}).get("url", "?")))}</td>'
        f'<td class="totals">{counts_html(per_engine.get(name, {}))}</td><td class="fp">{esc(fingerprints[name])}</td></tr>'
        for name in names
    )
    code = int(summary["exit_status"])
    status = "PASSED" if code == 0 else f"FAILED (exit {code})"
    by_fault = ", ".join(f"{n} the {esc(whose)}'s" for whose, n in (summary.get("faults") or {}).items())
    n_failed = len(anchors)
    failing = sorted({column(r, several) for r in rows if id(r) in anchors})
    verdict = (
        f'<a href="#failures">{n_failed} failure(s)</a> in {esc(", ".join(failing))}: {by_fault}.'
        if n_failed
        else "No failure."
    )
    meaning = f" Exit {code}: {esc(EXIT_MEANING.get(code, 'see the terminal'))}." if code else ""
    label = "variant@engine" if several else "variant"
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>paddle-verify: {esc(status)}</title>
<style>{STYLE}</style></head><body>
<h1 class="{"ok" if code == 0 else "bad"}">paddle-verify: {esc(status)}</h1>
<p id="verdict"><b>{verdict}</b>{meaning}</p>
<p>Manifest {esc(str(summary["manifest"]))}; {len(rows)} checks on {len(names)} engine(s)
in {float(summary["wall_seconds"]):.1f}s.</p>
<h2>Engines</h2>
<table id="engines"><thead><tr><th>engine</th><th>URL</th><th>totals</th><th>fingerprint</th></tr></thead>
<tbody>{engines}</tbody></table>
<h2>Checks by {label}</h2>
<p>A cell: the worst outcome (passed of all results); hover for the messages, click a failure for its row;
— : not a check of that variant.</p>
{_grid(rows, several, fingerprints, anchors)}
<h2>Failures</h2>
<p>By fault: {by_fault or "none"} ({FAULT_NOTE}).</p>
<table id="failures"><thead><tr><th>{label}</th><th>check</th><th>outcome</th><th>fault</th>
<th>message</th></tr></thead>
<tbody>{failures or '<tr><td colspan="5">none</td></tr>'}</tbody></table>
{_reused(notes)}{baseline_html(summary)}{_plots(notes)}</body></html>
"""
