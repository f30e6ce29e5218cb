"""Reports: ``summary.json`` (one row per check) and ``report.html`` for people (with links to
the benchmark plots the run wrote, ``notes.plots``).

JUnit XML is pytest's own (``--junitxml``, set to ``<report-dir>/junit.xml`` by
default); the variant and the engine of each test are ``<property name="variant">`` and
``<property name="engine">`` there, each engine's fingerprint a property of the test suite.
With several engines (``--engine``) the columns are ``variant@engine``.
The fault of a failure (``image``, ``host`` or ``suite``: ``plugin/outcomes.py``) is a
``<property name="fault">``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from ..exits import ExitCode
from .html import render_html
from .rows import faults, totals

PLOTS = "benchmarks"  # the benchmark log's plots, ``<report-dir>/benchmarks/*.svg`` (bench/log.py)


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


def accepted_of(report: pytest.TestReport) -> list[str]:
    """The findings the manifest accepts (``[secrets] allow``, ``[pip_check] allow``), with the reasons:
    the check's ``accepted`` properties (JUnit ``<property name="accepted">``)."""
    return [str(v) for k, v in report.user_properties if k == "accepted"]


def plots_of_run(report_dir: Path, started: float) -> list[str]:
    """The benchmark plots written since ``started`` (the run's own: an earlier run's, left in the
    same directory, are not), relative to the report directory, as report.html links them."""
    folder = report_dir / PLOTS
    if not folder.is_dir():
        return []
    return sorted(p.relative_to(report_dir).as_posix() for p in folder.glob("*.svg") if p.stat().st_mtime >= started)


class Recorder:
    """Collects one row per check (on the controller under xdist) and writes the reports."""

    def __init__(self, report_dir: Path, *, manifest: str, enabled: bool = True) -> None:
        self.report_dir = report_dir
        self.manifest = manifest
        self.enabled = enabled
        self.rows: list[dict[str, Any]] = []
        self.notes: dict[str, Any] = {}
        self.files: dict[str, Any] = {}  # more reports by file name: JSON data (facts.json), or text (sbom/)
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
                    "message": _message(report)
                    or (f"reused: passed in {props['reused']}" if "reused" in props else ""),
                    "reused": props.get("reused"),  # --reuse-verdicts: "run ID at TIME"
                    "fault": props.get("fault") if outcome in ("failed", "error") else None,
                    "duration": round(report.duration, 3),
                    **({"accepted": accepted} if (accepted := accepted_of(report)) else {}),
                }
            )

    @pytest.hookimpl(trylast=True)  # after the session's fixtures are torn down (the benchmark log's plots)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if not self.enabled or not (self.rows or self.notes):
            return
        self.report_dir.mkdir(parents=True, exist_ok=True)
        plots = plots_of_run(self.report_dir, self.started)  # the benchmarks' log wrote them at teardown
        if plots:
            self.notes["plots"] = plots
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
            path = self.report_dir / name
            path.parent.mkdir(parents=True, exist_ok=True)
            text = data if isinstance(data, str) else json.dumps(data, indent=2, sort_keys=True) + "\n"
            path.write_text(text, encoding="utf-8")

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
            reused = self.notes.get("reused", {}).get(variant)
            if reused:  # its facts are gathered only where another variant's check compares with it
                alone = "" if cost else ", no container"
                extra += f"  (reused: passed in run {reused['run']} at {reused['time']}{alone})"
            tr.write_line(f"{variant:>12}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())) + extra)
        faults = self.faults()
        if sum(faults.values()):
            tr.write_line("failures: " + ", ".join(f"{n} the {whose}'s" for whose, n in faults.items()))
            if set(k for k, n in faults.items() if n) == {"host"}:
                tr.write_line(
                    f"every failure is the host's (not the image's): the run exits with {int(ExitCode.HOST)}",
                    red=True,
                    bold=True,
                )
        for row in self.rows:
            for text in row.get("accepted", ()):
                tr.write_line(f"accepted ({row['variant']}, the manifest's allow-list): {text}")
        if self.notes.get("reuse_off"):
            tr.write_line(f"--reuse-verdicts: {self.notes['reuse_off']}")
        if self.notes.get("reuse_ignored"):
            tr.write_line(f"WARNING: --reuse-verdicts: {self.notes['reuse_ignored']}", yellow=True, bold=True)
        since = self.notes.get("baseline")
        if since:
            tr.write_line(f"since the baseline {since['path']}:")
            for variant, diff in since["variants"].items():
                tr.write_line(f"{variant:>12}: {diff['line']}")
        if self.notes.get("swept"):
            tr.write_line(f"swept {self.notes['swept']} leftover resource(s) of dead sessions")
        more = "".join(f", {name}" for name in self.files if "/" not in name)
        sboms = [name for name in self.files if name.startswith("sbom/")]
        more += f", sbom/ ({len(sboms)} CycloneDX SBOM)" if sboms else ""
        tr.write_line(f"reports: {self.report_dir}/summary.json, report.html, junit.xml{more}")
