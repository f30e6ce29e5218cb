"""``--reuse-verdicts DIR``: a variant whose key matches a stored run in which ALL its checks passed is
reported passed from that run, without a container; every other variant runs as usual.

The key of a variant (``report/verdicts.py`` hashes it) is made of: its image's config digest (the
image ID) and layer diff_ids (``docker image inspect`` through the engine's API: no container),
its contract in the manifest (the :class:`~paddle_verify.manifest.Variant` dataclass, serialised),
the suite's version and code (every file of the package, and the check modules and conftests the
run collected), the options that change outcomes (:data:`OPTIONS`, the baseline's and the SSH
context's contents), its engine's fingerprint and, for a gpu variant, the host's GPUs and driver.
A stored run is reused only where it covered every check this run selects for the variant.

A reused check is not set up (no fixture, so no container) and passes, marked: the JUnit property
``reused`` ("run ID at TIME"), its ``summary.json`` row (``reused``, and its message), the terminal
and report.html (``notes.reused``). A failure, a skip or a benchmark is never stored; a
benchmark always runs. The store is written atomically at the end of the run; a corrupt or
foreign one is ignored with one warning (terminal and ``notes.reuse_ignored``) and replaced.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import docker.errors
import pytest

from .. import report
from ..engine import DaemonUnreachable, connect
from ..manifest import Variant
from ..report import sbom, verdicts
from .run import run_of, variant_of

# The options whose values can change a check's outcome (the variant's image and contract are parts of
# their own: --manifest, --tag, --image; the selection, -k and -m, is the checks a record must cover).
OPTIONS = (
    *("--pull", "--exec-timeout", "--memory", "--release", "--ssh-bind", "--gpu-mode", "--allow-no-gpu"),
    *("--driver-lib-dir", "--size-growth", "--engine-tls-ca", "--engine-tls-cert"),
)
FILES = ("--baseline", "--ssh-context", "--calibration")  # options naming a file or folder: their contents count


def _is_benchmark(item: pytest.Item) -> bool:
    return "benchmark" in getattr(item, "fixturenames", ()) or "benchmarks" in item.path.parts


class Reuse:
    """The run's verdict store: what was read, each variant's key, what is reused, what passed (made
    and registered as a plugin by ``pytest_configure``, ``lifecycle.py``; the run's ``reuse``)."""

    def __init__(self, config: pytest.Config, folder: Path) -> None:
        self.config = config
        self.folder = folder
        self.stored, self.ignored = verdicts.load(folder)
        self.off = self._off()
        self.keys: dict[str, str] = {}
        self.nodeids: dict[str, list[str]] = {}  # each variant's checks in this run (benchmarks aside)
        self.owner: dict[str, str] = {}  # node id -> variant id
        self.reused: dict[str, verdicts.Record] = {}
        self.passed: dict[str, set[str]] = {}
        self.spoiled: set[str] = set()  # variants with a check that did not pass (or a benchmark)

    def _off(self) -> str | None:
        if self.config.getoption("--pull"):
            return "with --pull each image is what its registry serves at run time: nothing is reused"
        if hasattr(self.config, "workerinput") or getattr(self.config.option, "numprocesses", None):
            return "not under xdist (-n): nothing is reused"
        return None

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        """Each variant's key, and the variants whose stored run covers every selected check (not
        with ``--collect-only``: a listing runs nothing to reuse, and reaches no engine)."""
        if self.config.option.collectonly:
            return
        variants: dict[str, Variant] = {}
        for item in items:
            variant = variant_of(item)
            if variant is None:
                continue
            if _is_benchmark(item):
                self.spoiled.add(variant.id)
                continue
            variants[variant.id] = variant
            self.nodeids.setdefault(variant.id, []).append(item.nodeid)
            self.owner[item.nodeid] = variant.id
        if self.off:
            return
        code = self._code(items)
        images = self._images(list(variants.values()))
        for vid, variant in variants.items():
            image = images.get(vid)
            if image is None:
                continue  # no image: it runs, and its checks say why
            self.keys[vid] = verdicts.key(self._parts(variant, image, code))
            record = self.stored.get(self.keys[vid])
            if record is not None and vid not in self.spoiled and record.covers(self.nodeids[vid]):
                self.reused[vid] = record

    def _code(self, items: Iterable[pytest.Item]) -> dict[str, str]:
        modules = {item.path for item in items}
        conftests = {p / "conftest.py" for m in modules for p in m.parents if (p / "conftest.py").is_file()}
        package = Path(__file__).resolve().parents[1]
        try:
            version = metadata.version("paddle-verify")
        except metadata.PackageNotFoundError:
            version = "unknown"
        return {
            "version": version,
            "package": verdicts.code_hash(verdicts.package_files(package)),
            "checks": verdicts.code_hash(modules | conftests),
        }

    def _images(self, variants: list[Variant]) -> dict[str, dict[str, Any] | None]:
        """Each variant's image ID and layer diff_ids, through its engine's API (no container)."""
        found: dict[str, dict[str, Any] | None] = {}
        for variant in variants:
            try:
                client = connect(engine=run_of(self.config).engine_of(variant))
            except DaemonUnreachable:
                found[variant.id] = None
                continue
            try:
                attrs = client.images.get(variant.image).attrs
                found[variant.id] = {"id": attrs.get("Id"), "diff_ids": (attrs.get("RootFS") or {}).get("Layers")}
            except (docker.errors.DockerException, OSError):
                found[variant.id] = None
            finally:
                client.close()
        return found

    def _parts(self, variant: Variant, image: dict[str, Any], code: dict[str, str]) -> dict[str, Any]:
        run = run_of(self.config)
        state = run.fleet.column(variant).state
        options = {name: self.config.getoption(name) for name in OPTIONS}
        for name in FILES:
            given = self.config.getoption(name)
            where = Path(self.config.invocation_params.dir, given) if given else None
            found = [where] if where and where.is_file() else sorted(where.rglob("*")) if where else []
            options[name] = verdicts.code_hash(p for p in found if p.is_file()) if given else None
        host = run.host_gpus
        return {
            "variant": variant.id,
            "image": image,
            "contract": dataclasses.asdict(variant),
            "suite": code,
            "options": options,
            "engine": state.fingerprint,
            "gpu": {"host": host.describe(), "uuids": host.uuids} if variant.flavour == "gpu" else None,
        }

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        """A reused check is marked, and neither set up nor run: it passes (before its fixtures start anything)."""
        variant = variant_of(item)
        record = self.reused.get(variant.id) if variant else None
        if record is None or _is_benchmark(item):
            return
        label = f"run {record.run} at {record.time}"
        item.user_properties.append(("reused", label))
        setattr(item, "setup", lambda: None)  # noqa: B010 - this instance, this run: no fixture, no container
        setattr(item, "runtest", lambda: None)  # noqa: B010

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        vid = self.owner.get(report.nodeid)
        if vid is None:
            return
        if report.failed or report.skipped:
            self.spoiled.add(vid)
        elif report.when == "call":
            self.passed.setdefault(vid, set()).add(report.nodeid)

    @pytest.hookimpl(tryfirst=True)  # before the baseline's diff and the recorder read facts.json
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """The reused variants' facts and SBOMs into the reports; the runs that passed into the store."""
        recorder = run_of(self.config).recorder
        if not recorder.enabled:
            return
        label = self.config.getoption("--run-label") or recorder.notes.get("session") or f"{recorder.started:.0f}"
        self.finish(recorder, str(label))

    def finish(self, recorder: report.Recorder, run_id: str) -> None:
        facts = recorder.files.setdefault("facts.json", {"version": 1, "variants": {}})
        for vid, record in self.reused.items():
            facts["variants"][vid] = record.facts
        if self.reused:
            recorder.files |= sbom.files(facts["variants"])
            recorder.note("reused", {vid: {"run": r.run, "time": r.time} for vid, r in self.reused.items()})
        if self.ignored:
            recorder.note("reuse_ignored", self.ignored)
        if self.off:
            recorder.note("reuse_off", self.off)
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        fresh = {
            self.keys[vid]: verdicts.Record(
                self.keys[vid], vid, run_id, now, sorted(ids), dict(facts["variants"].get(vid) or {})
            )
            for vid, ids in self.nodeids.items()
            if vid in self.keys and vid not in self.reused and vid not in self.spoiled
            and self.passed.get(vid, set()) >= set(ids)
        }  # fmt: skip
        if fresh or self.ignored:
            verdicts.save(self.folder, {**self.stored, **fresh})
