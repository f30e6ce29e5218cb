"""report.html opened in a real browser (Debian's chromium, headless): the page as the browser built
it (``--dump-dom``) holds the engine columns, the failures with their messages and fingerprints, the
totals per engine and per column, and the links to the run's benchmark plots; a screenshot is kept.

The run: a broken image (the ``wrong-version`` defect) checked as ``cpu`` on two engine names of the
local engine (a, b: the image's failures, in both columns) and on an engine that cannot be reached
(gone: the host's failure, its column alone); a plugin stands in for the benchmarks' log and writes
one plot at the session's end, as ``bench_log`` does.
"""

from __future__ import annotations

import os
import shutil
import signal
import struct
import subprocess
import tempfile
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest

from paddle_verify.engine import daemon_url
from paddle_verify.engine.fingerprint import describe
from paddle_verify.report import render_html
from paddle_verify.report.merge import main as merge_main

from .conftest import REFERENCE, ImageFactory, InnerRun, prerequisite, run_suite
from .defects import DEFECTS

LOCAL = daemon_url()
WRONG_VERSION = next(d for d in DEFECTS if d.name == "wrong-version")
BROKEN = {check.split("[")[0]: words for check, words in WRONG_VERSION.fails.items()}  # the checks it fails
BROWSER_TIMEOUT = 90.0  # seconds; a first start on a busy machine takes a few
WINDOW = (1400, 1000)

PLOT_DOUBLE = '''"""A stand-in for the benchmarks' log (TEST DOUBLE): one plot written at the session's end."""
from pathlib import Path

import pytest

from paddle_verify.bench.log import BenchLog, Comparison


@pytest.fixture(scope="session", autouse=True)
def plot_at_the_end(pytestconfig):
    yield
    log = BenchLog(Path(pytestconfig.invocation_params.dir, pytestconfig.getoption("--report-dir")))
    log.add(Comparison("cpu matmul", "cpu", "cpu", "s", "bare metal", "container", [1.0, 1.1, 0.9], [1.0, 1.2, 1.1]))
    log.write()
'''


class Page(HTMLParser):
    """A page's tables by id (rows of cell texts), its links and every tag it has."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.links: list[str] = []
        self.tags: list[str] = []
        self._table: list[list[str]] | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "table":
            self._table = self.tables.setdefault(a.get("id") or "", [])
        elif tag == "tr" and self._table is not None:
            self._row = []
            self._table.append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "a" and a.get("href"):
            self.links.append(a["href"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "table":
            self._table = self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)

    def rows(self, table: str) -> dict[str, list[str]]:
        """A table's rows by their first cell (the header row under its own first cell)."""
        assert table in self.tables, f"report.html: no table {table!r}; tables: {sorted(self.tables)}"
        return {r[0]: r[1:] for r in self.tables[table] if r}


@pytest.fixture(scope="session")
def chromium() -> str:
    path = shutil.which("chromium")
    prerequisite(path is not None, "chromium missing: Debian's chromium, installed by scripts/ensure-tools.sh")
    assert path is not None
    return path


def browse(chromium: str, page: Path, *args: str, timeout: float = BROWSER_TIMEOUT) -> str:
    """Run headless chromium on ``page`` with ``args``; its stdout. A browser that does not finish in
    ``timeout`` is killed with every process it started; its profile directory (and all it wrote) is removed."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    # --no-sandbox: chromium's sandbox refuses to run as root (the self-tests' CI runs as root)
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions"]
    argv += [f"--user-data-dir={profile}", *args, page.as_uri()]
    # its crash reports and caches (under XDG_CONFIG_HOME, XDG_CACHE_HOME) in the profile too, not in ~
    env = {**os.environ, "XDG_CONFIG_HOME": str(profile / "config"), "XDG_CACHE_HOME": str(profile / "cache")}
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # its own process group: the renderers and the zygote too
        _, err = proc.communicate()
        pytest.fail(f"chromium {' '.join(args)}: no answer in {timeout:.0f}s on {page}: {err[-2000:]}")
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, f"chromium {' '.join(args)} on {page}: exit {proc.returncode}: {err[-2000:]}"
    return out


def dom(chromium: str, page: Path) -> Page:
    text = browse(chromium, page, "--dump-dom")
    assert "<table" in text, f"chromium --dump-dom of {page}: no table in the page as built:\n{text[:2000]}"
    return Page(text)


def screenshot(chromium: str, page: Path, png: Path) -> None:
    """A screenshot of the page's first screen, ``png``: a PNG of the window's size, not blank."""
    browse(chromium, page, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}")
    data = png.read_bytes() if png.exists() else b""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png}: not a PNG ({len(data)} bytes)"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    assert (width, height) == WINDOW, f"{png}: expected {WINDOW}, found {(width, height)}"
    assert len(data) > 30_000, f"{png}: {len(data)} bytes, too small for a page of tables (a blank page?)"


def counts(text: str) -> dict[str, int]:
    """``21 passed, 2 failed`` -> ``{"passed": 21, "failed": 2}`` (a totals cell as the browser shows it)."""
    out = {}
    for part in text.split(", "):
        n, outcome = part.split(" ", 1)
        out[outcome] = int(n)
    return out


@pytest.fixture(scope="module")
def report_run(
    reference_images: dict[str, str], build_image: ImageFactory, tmp_path_factory: pytest.TempPathFactory
) -> InnerRun:
    broken = build_image("report-wrong-version", f"FROM {reference_images['cpu']}\n{WRONG_VERSION.dockerfile}\n")
    cwd = tmp_path_factory.mktemp("report")
    (cwd / "plugins").mkdir()
    (cwd / "plugins" / "plot_double.py").write_text(PLOT_DOUBLE)
    stale = cwd / "reports" / "benchmarks" / "stale.svg"  # an earlier run's plot: not this run's
    stale.parent.mkdir(parents=True)
    stale.write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    engines = ("--engine", f"a={LOCAL}", "--engine", f"b={LOCAL}", "--engine", f"gone=unix://{cwd}/none.sock")
    pythonpath = os.pathsep.join(p for p in (str(cwd / "plugins"), os.environ.get("PYTHONPATH")) if p)
    return run_suite(
        cwd,
        *("--manifest", str(REFERENCE), "--image", f"cpu={broken}", "-m", "not ssh", *engines),
        *("-p", "plot_double"),
        env={"PYTHONPATH": pythonpath},
    )


def test_report_in_chromium_shows_the_engines_and_the_failures(report_run: InnerRun, chromium: str) -> None:
    run = report_run
    assert run.ret == 1, f"cpu@a, cpu@b: expected exit 1 (the image's failures), found {run.ret}:\n{run.stdout[-3000:]}"
    assert run.summary is not None
    report = run.path / "reports" / "report.html"
    page = dom(chromium, report)
    assert "title" in page.tags, "report.html: no title in the page as built"
    assert "h1" in page.tags, "report.html: no heading in the page as built"

    grid = page.rows("grid")
    assert grid["check"] == ["cpu@a", "cpu@b", "cpu@gone"], f"report.html: grid columns {grid['check']}"
    for col, found in zip(grid["check"], grid["totals"], strict=True):
        assert counts(found) == run.summary["totals"][col], (
            f"{col}: grid totals {found!r} != {run.summary['totals'][col]}"
        )
    for check in BROKEN:
        assert grid[check][:2] == ["failed (0/1)", "failed (0/1)"], f"cpu@a, cpu@b: {check} shows {grid[check]}"
        assert grid[check][2] == "not run (0/1)", f"cpu@gone: {check} shows {grid[check][2]!r}, expected not run"

    notes = run.summary["notes"]["engines"]
    engines = page.rows("engines")
    for name in ("a", "b", "gone"):
        url, totals, fingerprint = engines[name]
        assert url == notes[name]["url"], f"engine {name}: URL {url!r}, expected {notes[name]['url']!r}"
        expected: dict[str, int] = {}
        for r in run.summary["results"]:
            if r["engine"] == name:
                expected[r["outcome"]] = expected.get(r["outcome"], 0) + 1
        assert counts(totals) == expected, f"engine {name}: totals {totals!r}, expected {expected}"
        want = f"unreachable: {notes[name]['lost']}" if name == "gone" else describe(notes[name]["fingerprint"])
        assert fingerprint == want, f"engine {name}: fingerprint {fingerprint!r}, expected {want!r}"

    failed = [r for r in run.summary["results"] if r["outcome"] in ("failed", "error")]
    table = page.tables["failures"][1:]
    shown = {(r[0], r[1]): r for r in table if len(r) == 5}
    assert set(shown) == {(f"{r['variant']}@{r['engine']}", r["check"]) for r in failed}, f"failures shown: {shown}"
    for r in failed:
        _, _, outcome, fault, text = shown[(f"{r['variant']}@{r['engine']}", r["check"])]
        where = f"{r['variant']}@{r['engine']} {r['check']}"
        assert (outcome, fault, text) == (r["outcome"], r["fault"], r["message"]), (
            f"{where}: shows {outcome}, {fault}, {text!r}"
        )
    # each column's failures under its engine's fingerprint, as the engines table has it
    groups = [r[0] for r in table if len(r) == 1]
    expected_groups = [f"cpu@{name} on engine {name}: {engines[name][2]}" for name in ("a", "b", "gone")]
    assert groups == expected_groups, f"report.html: failures grouped as {groups}, expected {expected_groups}"
    for (col, check), (*_, text) in shown.items():
        if col == "cpu@gone":
            assert "unreachable" in text, f"cpu@gone: expected 'unreachable' in {check}'s failure, found {text!r}"
        else:
            assert BROKEN[check] in text, f"{col}: expected {BROKEN[check]!r} in {check}'s failure, found {text!r}"
    assert sum(col == "cpu@gone" for col, _ in shown) == 1, f"cpu@gone: expected one failure, found {shown}"
    assert {check for col, check in shown if col != "cpu@gone"} == set(BROKEN), f"cpu@a, cpu@b: failures {shown}"

    plots = [link for link in page.links if link.endswith(".svg")]
    assert plots == ["benchmarks/cpu_matmul.svg"] * 2, f"report.html: plot links {plots} (the stale one must not be)"
    assert (report.parent / plots[0]).is_file(), f"report.html links {plots[0]}, not a file"

    png = report.parent / "report.png"
    screenshot(chromium, report, png)
    print(f"\nscreenshot: {png}")


def test_merged_report_in_chromium(report_run: InnerRun, chromium: str, tmp_path: Path) -> None:
    out = tmp_path / "merged"
    assert merge_main(["merge", str(report_run.path / "reports"), "-o", str(out)]) == 0, "merge: expected exit 0"
    page = dom(chromium, out / "report.html")
    assert page.rows("grid")["check"] == ["cpu@a", "cpu@b", "cpu@gone"], "merged report.html: grid columns"
    assert report_run.summary is not None
    failed = sum(r["outcome"] in ("failed", "error") for r in report_run.summary["results"])
    shown = [r for r in page.tables["failures"][1:] if len(r) == 5]
    assert len(shown) == failed, f"merged report.html: expected {failed} failures, found {shown}"
    plots = sorted({link for link in page.links if link.endswith(".svg")})
    assert plots == ["benchmarks/1-reports/cpu_matmul.svg"], f"merged report.html: plot links {plots}"
    assert (out / plots[0]).is_file(), f"merged report.html links {plots[0]}, not copied"
    screenshot(chromium, out / "report.html", out / "report.png")


def test_everything_from_the_run_is_escaped() -> None:
    evil = "<script>alert(1)</script> & <marquee>"
    row = {"variant": "cpu", "engine": "x", "check": "test_x", "nodeid": "c.py::test_x[cpu]", "outcome": "failed"}
    summary = {
        "manifest": evil,
        "exit_status": 1,
        "wall_seconds": 1.0,
        "faults": {"image": 1},
        "notes": {"engines": {"x": {"url": evil, "lost": evil}}, "plots": [f"benchmarks/{evil}.svg"]},
        "results": [{**row, "message": evil, "fault": "image"}],
    }
    page = Page(render_html(summary))
    assert "script" not in page.tags, f"report.html: a script from the run: {page.tags}"
    assert "marquee" not in page.tags, f"report.html: markup from the run: {page.tags}"
    failures = page.rows("failures")
    assert failures["cpu"][3] == evil, f"report.html: the message must show as text: {failures['cpu']}"
    assert f"cpu on engine x: unreachable: {evil}" in failures, f"report.html: the fingerprint as text: {failures}"
    assert page.rows("engines")["x"][0] == evil, "report.html: the URL must show as text"
