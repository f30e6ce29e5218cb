"""``paddle-verify merge REPORT_DIR... -o OUT``: the shards of a CI matrix (one engine or more each)
or the runs of one job over several manifests (``make check``: variant-disjoint) merged into one
report: ``summary.json`` (results, totals, ``notes``: engines, variants, gpu, baseline),
``junit.xml`` (through junitparser), ``report.html`` over every engine and variant and
``facts.json`` (every shard's variants), with the shards' benchmark plots copied to
``OUT/benchmarks/<n>-<shard dir>/`` and linked. Its exit status is the worst of the shards'.

A shard run on one engine names its tests ``[cpu]``; merged among several engines they
become ``[cpu@NAME]``, as one run over all the engines names them, so a merge and a single
run give the same ids and outcomes.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from junitparser import JUnitXml, Properties, TestCase, TestSuite

from ..exits import EXIT_HOST
from .html import render_html
from .recorder import PLOTS
from .rows import faults, several_engines, totals

SUMMARY, JUNIT, HTML, FACTS = "summary.json", "junit.xml", "report.html", "facts.json"


class MergeError(Exception):
    """A shard that cannot be merged; the message names the file and the problem."""


def with_engine(nodeid: str, variant: str | None, engine: str | None) -> str:
    """``...::test_x[cpu]`` -> ``...::test_x[cpu@b]`` (also ``[cpu-paddle]`` -> ``[cpu@b-paddle]``)."""
    if not variant or not engine:
        return nodeid
    return re.sub(rf"\[{re.escape(variant)}(?=[\]-])", f"[{variant}@{engine}", nodeid, count=1)


def read_summary(directory: Path) -> dict[str, Any]:
    path = directory / SUMMARY
    try:
        summary: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MergeError(f"{path}: no summary.json (is {directory} a report directory of a run?)") from None
    except json.JSONDecodeError as exc:
        raise MergeError(f"{path}: not JSON: {exc}") from None
    if not isinstance(summary.get("results"), list):
        raise MergeError(f"{path}: no results list")
    return summary


def merge_summaries(shards: Sequence[tuple[Path, dict[str, Any]]]) -> dict[str, Any]:
    """One summary over every shard; with several engines the ids carry their engine."""
    rows = [dict(r) for _, s in shards for r in s["results"]]
    several = several_engines(rows)
    if several:
        for row in rows:
            if "@" not in row["nodeid"].split("[", 1)[-1]:
                row["nodeid"] = with_engine(row["nodeid"], row.get("variant"), row.get("engine"))
    seen: dict[str, Path] = {}
    for directory, summary in shards:
        for row in summary["results"]:
            nodeid = with_engine(row["nodeid"], row.get("variant"), row.get("engine")) if several else row["nodeid"]
            if seen.setdefault(nodeid, directory) != directory:
                raise MergeError(
                    f"{nodeid} is in {seen[nodeid]} and in {directory}: two shards checked variant "
                    f"{row.get('variant')} on one engine name ({row.get('engine')}); give each shard's engine its "
                    "own name (--engine NAME=URL), or each manifest's variants their own names"
                )
    engines: dict[str, Any] = {}
    for directory, summary in shards:
        for name, note in summary.get("notes", {}).get("engines", {}).items():
            if name in engines and engines[name].get("url") != note.get("url"):
                raise MergeError(
                    f"{directory / SUMMARY}: engine {name} is {note.get('url')} here but {engines[name].get('url')} "
                    "in another shard (give each engine one name)"
                )
            engines.setdefault(name, note)
    by_fault = faults(rows)
    failed = sum(by_fault.values()) > 0
    # a shard stopped (2), misused (4) or without its daemon (7) keeps its code; failures give 1,
    # or EXIT_HOST when every failure of every shard is the host's
    others = [st for st in (int(s.get("exit_status", 0)) for _, s in shards) if st not in (0, 1, EXIT_HOST)]
    failed_code = EXIT_HOST if failed and by_fault["host"] == sum(by_fault.values()) else 1 if failed else 0
    return {
        "manifest": ", ".join(sorted({str(s.get("manifest")) for _, s in shards})),
        "exit_status": max(others) if others else failed_code,
        "wall_seconds": max((float(s.get("wall_seconds", 0)) for _, s in shards), default=0.0),
        "totals": totals(rows),
        "faults": by_fault,
        "notes": {
            **merge_notes(shards, several),
            "engines": engines,
            "shards": [
                {
                    "dir": str(d),
                    "exit_status": s.get("exit_status"),
                    "wall_seconds": s.get("wall_seconds"),
                    "sessions": s.get("notes", {}).get("sessions"),
                }
                for d, s in shards
            ],
        },
        "results": rows,
    }


def by_variant(shards: Sequence[tuple[dict[str, Any], dict[str, Any]]], several: bool) -> dict[str, Any]:
    """Tables by variant id (``notes.variants``, ``facts.json``'s variants) of every shard in one; among
    several engines a shard's ids carry its engine (``cpu@b``), as one run over them names them."""
    out: dict[str, Any] = {}
    for summary, table in shards:
        engines = {r.get("engine") for r in summary["results"]}
        engine = next(iter(engines)) if len(engines) == 1 else None
        for vid, value in table.items():
            key = f"{vid}@{engine}" if several and engine and "@" not in vid else vid
            if key in out:
                raise MergeError(f"variant {key} is in two shards (give each its own engine name or variant)")
            out[key] = value
    return out


def merge_notes(shards: Sequence[tuple[Path, dict[str, Any]]], several: bool) -> dict[str, Any]:
    """The shards' notes that hold per-variant or per-run facts: variants (each one's cost), gpu (the
    host's), baseline (the diff since it, per variant) and stopped (why a shard stopped)."""
    notes = [(d, s, s.get("notes", {})) for d, s in shards]
    out: dict[str, Any] = {"variants": by_variant([(s, n.get("variants") or {}) for _, s, n in notes], several)}
    gpu = next((n["gpu"] for _, _, n in notes if n.get("gpu")), None)
    if gpu:
        out["gpu"] = gpu
    baselines = [(s, n["baseline"]) for _, s, n in notes if n.get("baseline")]
    if baselines:
        diffs = by_variant([(s, b["variants"]) for s, b in baselines], several)
        out["baseline"] = {**baselines[0][1], "variants": diffs}
    stopped = [f"{d}: {n['stopped']}" for d, _, n in notes if n.get("stopped")]
    if stopped:
        out["stopped"] = "; ".join(stopped)
    return out


def merge_facts(shards: Sequence[tuple[Path, dict[str, Any]]], several: bool) -> dict[str, Any] | None:
    """One ``facts.json`` of every shard's (None when no shard wrote one)."""
    found = []
    for directory, summary in shards:
        path = directory / FACTS
        if path.exists():
            try:
                found.append((summary, json.loads(path.read_text(encoding="utf-8"))))
            except json.JSONDecodeError as exc:
                raise MergeError(f"{path}: not JSON: {exc}") from None
    if not found:
        return None
    versions = {data.get("version") for _, data in found}
    if len(versions) != 1:
        raise MergeError(f"the shards' facts.json are of versions {sorted(map(str, versions))}: one version only")
    return {
        "version": versions.pop(),
        "variants": by_variant([(s, d.get("variants") or {}) for s, d in found], several),
    }


def _properties(case: TestCase) -> dict[str, str]:
    props = case.child(Properties)  # type: ignore[no-untyped-call]  # junitparser leaves it untyped
    return {str(p.name): str(p.value) for p in props} if props is not None else {}


def merge_junit(directories: Sequence[Path], several: bool) -> JUnitXml:
    """Every shard's test suites in one file (case names with their engine among several)."""
    merged = JUnitXml("paddle-verify")
    for directory in directories:
        path = directory / JUNIT
        if not path.exists():
            raise MergeError(f"{path}: no JUnit file")
        xml = JUnitXml.fromfile(str(path))
        # a file of one suite (pytest's) or of several (a merge's)
        suites = [xml] if isinstance(xml, TestSuite) else [s for s in xml if isinstance(s, TestSuite)]
        for suite in suites:
            if several:
                for case in (c for c in suite if isinstance(c, TestCase)):
                    props = _properties(case)
                    if "@" not in str(case.name).split("[", 1)[-1]:
                        case.name = with_engine(str(case.name), props.get("variant"), props.get("engine"))
            suite.name = f"{suite.name} ({directory.name})"
            merged.add_testsuite(suite)
    merged.update_statistics()  # type: ignore[no-untyped-call]  # junitparser leaves it untyped
    return merged


def shard_plots(shards: Sequence[tuple[Path, dict[str, Any]]]) -> list[tuple[Path, str]]:
    """Each shard's benchmark plots (``notes.plots``): the file, and its path in the merged report."""
    out = []
    for n, (directory, summary) in enumerate(shards, 1):
        for rel in summary.get("notes", {}).get("plots") or []:
            src = directory / rel
            if ".." in Path(rel).parts or Path(rel).is_absolute() or not src.is_file():
                raise MergeError(f"{directory / SUMMARY}: plot {rel} is not a file of {directory}")
            out.append((src, f"{PLOTS}/{n}-{directory.resolve().name}/{Path(rel).name}"))
    return out


def merge(directories: Sequence[Path], out: Path) -> dict[str, Any]:
    """Merge the report directories into ``out``; returns the merged summary."""
    if not directories:
        raise MergeError("no report directory to merge")
    shards = [(d, read_summary(d)) for d in directories]
    summary = merge_summaries(shards)
    several = several_engines(summary["results"])
    junit = merge_junit(directories, several)
    facts = merge_facts(shards, several)
    plots = shard_plots(shards)
    out.mkdir(parents=True, exist_ok=True)
    for src, rel in plots:
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, out / rel)
    if plots:
        summary["notes"]["plots"] = [rel for _, rel in plots]
    (out / SUMMARY).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    junit.write(str(out / JUNIT))
    (out / HTML).write_text(render_html(summary), encoding="utf-8")
    if facts is not None:
        (out / FACTS).write_text(json.dumps(facts, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """The former entry point: ``paddle-verify merge`` (kept for callers of this module)."""
    from ..cli import main as cli_main

    return cli_main(argv)
