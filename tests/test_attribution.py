"""Failures attributed: the image's, the host's or the suite's own; a run failed only by the host exits 8.

Whose a cause is, is typed where it arises (the engine's errors, the facts that keep them; unit):
no words are read back; an inner run of checks written
for the test raises the host's causes without touching the engine (a daemon lost, memory,
no GPU) and shows the fault in ``summary.json``, JUnit and the terminal, and the exit code;
a broken image on a healthy engine fails as the image's. A daemon really stopped in the
middle of a run is ``test_reliability.py``'s (CI, or ``PADDLE_VERIFY_DISRUPTIVE=1``).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import docker.errors
import pytest

from paddle_verify.engine import DaemonUnreachable, EngineError, translated
from paddle_verify.engine.client import UNREACHABLE, image_missing
from paddle_verify.facts import FactMissing, ImageFacts
from paddle_verify.facts.missing import met
from paddle_verify.facts.probe import PythonMissing
from paddle_verify.facts.schema import Probe
from paddle_verify.manifest import load
from paddle_verify.plugin.outcomes import EXIT_HOST, fault

from .conftest import REFERENCE, ImageFactory, InnerRun, run_suite
from .defects import DEFECTS


def _refused(explanation: str) -> docker.errors.APIError:
    return docker.errors.APIError("500 Server Error", explanation=explanation)


@pytest.mark.parametrize(
    ("exc", "whose"),
    [
        (translated(ConnectionRefusedError(111, "Connection refused"), "unix:///x", variant="cpu"), "host"),
        (_refused("write /var/lib/docker/tmp/x: no space left on device"), "host"),
        (_refused("client version 1.45 is too new. Maximum supported API version is 1.24"), "host"),
        (EngineError("cpu: the container stopped (...), killed on the host", fault="host"), "host"),
        (_refused("No such image: paddledev/paddlepaddle:latest-cpu"), "image"),
        (image_missing("cpu", "paddledev/paddlepaddle:latest-cpu"), "image"),
        (PythonMissing("python3 is not in the image (exit code 127)"), "image"),
        (EngineError("cpu: the probe did not finish within 61s"), "image"),
    ],
    ids=["lost", "disk-full", "engine-too-old", "killed", "no-such-image", "absent", "no-python", "timeout"],
)
def test_engine_errors_say_whose_where_they_arise(exc: BaseException, whose: str) -> None:
    """Whose an engine error is, typed by its raiser (the daemon's refusal read where it is met);
    the facts keep it (:func:`met`) and the missing fact carries it, and a lost daemon's cause."""
    kept = met(exc)
    facts = ImageFacts(variant=load(REFERENCE).variants["cpu"], error=str(exc), error_met=kept)
    missing = facts.unavailable()
    assert missing is not None, "an image with an error has no facts"
    assert missing.fault == whose, f"{exc!r}: {missing.fault}, expected {whose}"
    if isinstance(exc, DaemonUnreachable):
        assert missing.cause == exc.line == f"{UNREACHABLE}unix:///x: Connection refused", missing.cause


def test_the_words_of_a_message_decide_nothing() -> None:
    """No fault is read back from words: a host's phrase in a message the raiser did not type is the image's."""
    for words in (f"cpu: {UNREACHABLE}unix:///x: Connection refused", "cpu: no NVIDIA GPU on this host"):
        assert FactMissing(words).fault == "image", words
        assert FactMissing(words, fault="host").fault == "host", words


@pytest.mark.parametrize(("memory", "whose"), [(None, "host"), ("100m", "image")])
def test_a_probe_child_killed_is_the_hosts_without_a_memory_limit(memory: str | None, whose: str) -> None:
    killed = {"data": None, "error": None, "stderr": "", "rc": -9}
    probe = cast(Probe, {"imports": killed, "oom_kills": 1})
    facts = ImageFacts(variant=load(REFERENCE).variants["cpu"], memory=memory, probe_raw=probe)
    with pytest.raises(FactMissing) as caught:
        _ = facts.imports
    assert caught.value.fault == whose, f"--memory {memory}: {caught.value} is {caught.value.fault}'s"


class _Item:
    """The part of a pytest item that :func:`fault` reads: its markers."""

    def __init__(self, *markers: str) -> None:
        self.markers = markers

    def get_closest_marker(self, name: str) -> object | None:
        return name if name in self.markers else None


@pytest.mark.parametrize(
    ("exc", "markers", "whose"),
    [
        (AssertionError("cpu: `paddle version` says 3.3.0"), (), "image"),
        (pytest.fail.Exception("security finding (--release): ..."), (), "image"),
        (AssertionError("cpu: the Docker host's kernel is '3.2'"), ("about_host",), "host"),
        (FactMissing(f"cpu: {UNREACHABLE}unix:///x: Connection refused", fault="host"), (), "host"),
        (ConnectionError("Connection aborted"), (), "host"),
        (KeyError("imports"), (), "suite"),
        (TypeError("'NoneType' object is not subscriptable"), (), "suite"),
    ],
)
def test_exceptions_are_attributed(exc: BaseException, markers: tuple[str, ...], whose: str) -> None:
    assert fault(_Item(*markers), exc) == whose  # type: ignore[arg-type]


# --- inner runs ------------------------------------------------------------------------

# Checks that fail the way the engine and the host make them fail, without touching the engine.
HOST_CHECKS = """
from paddle_verify.engine import DaemonUnreachable, EngineError
from paddle_verify.facts import FactMissing
from paddle_verify.facts.missing import met

def lost(variant):
    kept = met(DaemonUnreachable(url="unix:///var/run/docker.sock", reason="Connection refused", variant=variant.name))
    return FactMissing(f"{variant.name}: the daemon is gone", cause=kept.cause, fault=kept.fault)

def test_daemon_lost(variant):
    raise lost(variant)

def test_daemon_lost_again(variant):  # the same cause: not run
    raise lost(variant)

def test_disk_full(variant):
    kept = met(EngineError("cannot create a container: no space left on device", fault="host"))
    raise FactMissing(f"{variant.name}: cannot create a container: no space left on device", fault=kept.fault)

def test_passes(variant):
    pass
"""
IMAGE_CHECK = """
def test_image_says_no(variant):
    assert False, f"{variant.name}: `paddle version` says 3.3.0"
"""
SUITE_CHECK = """
def test_suite_bug(variant):
    {}["imports"]
"""


def inner(tmp_path: Path, *checks: str) -> InnerRun:
    target = tmp_path / "test_inner.py"
    target.write_text("\n".join(checks))
    return run_suite(tmp_path, "--manifest", str(REFERENCE), "--variant", "cpu", target=target, timeout=120)


def junit_faults(run: InnerRun) -> dict[str, str | None]:
    """``{test name: its fault property}`` from junit.xml."""
    root = ET.parse(run.path / "reports" / "junit.xml").getroot()
    return {
        case.get("name", ""): next((p.get("value") for p in case.iter("property") if p.get("name") == "fault"), None)
        for case in root.iter("testcase")
    }


def faults(run: InnerRun) -> dict[str, Any]:
    assert run.summary is not None, run.stdout[-2000:]
    return {r["nodeid"].split("::")[-1]: r["fault"] for r in run.summary["results"]}


def test_a_run_failed_only_by_the_host_exits_with_the_host_code(tmp_path: Path) -> None:
    run = inner(tmp_path, HOST_CHECKS)
    assert run.ret == EXIT_HOST, run.stdout[-3000:]
    assert run.summary is not None
    assert run.summary["exit_status"] == EXIT_HOST
    assert run.summary["faults"] == {"image": 0, "host": 2, "suite": 0}
    assert faults(run) == {
        "test_daemon_lost[cpu]": "host",
        "test_daemon_lost_again[cpu]": None,  # not run: the same cause, reported once
        "test_disk_full[cpu]": "host",
        "test_passes[cpu]": None,
    }
    assert junit_faults(run) == {
        "test_daemon_lost[cpu]": "host",
        "test_daemon_lost_again[cpu]": None,
        "test_disk_full[cpu]": "host",
        "test_passes[cpu]": None,
    }
    assert "failures: 0 the image's, 2 the host's, 0 the suite's" in run.stdout
    assert "every failure is the host's (not the image's): the run exits with 8" in run.stdout
    html = (run.path / "reports" / "report.html").read_text()
    assert "By fault: 0 the image's, 2 the host's, 0 the suite's" in html
    assert '<td class="fault-host">host</td>' in html


def test_one_failure_of_the_image_makes_it_the_image_run(tmp_path: Path) -> None:
    run = inner(tmp_path, HOST_CHECKS, IMAGE_CHECK)
    assert run.ret == 1, run.stdout[-3000:]
    assert faults(run)["test_image_says_no[cpu]"] == "image"
    assert "failures: 1 the image's, 2 the host's, 0 the suite's" in run.stdout


def test_an_internal_error_is_the_suite_s(tmp_path: Path) -> None:
    run = inner(tmp_path, HOST_CHECKS, SUITE_CHECK)
    assert run.ret == 1, run.stdout[-3000:]
    assert faults(run)["test_suite_bug[cpu]"] == "suite"
    assert junit_faults(run)["test_suite_bug[cpu]"] == "suite"


def test_broken_image_on_a_healthy_engine_fails_as_the_image_s(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun]
) -> None:
    defect = next(d for d in DEFECTS if d.name == "launcher-missing")
    broken = build_image(defect.name, f"FROM {reference_images[defect.base]}\n{defect.dockerfile}\n")
    run = run_checks("--manifest", str(REFERENCE), "--image", f"cpu={broken}", "-m", "not ssh")
    assert run.ret == 1, run.stdout[-3000:]
    assert run.summary is not None
    failed = {k: v for k, v in faults(run).items() if v is not None}
    assert failed
    assert set(failed.values()) == {"image"}, failed
    assert run.summary["faults"] == {"image": len(failed), "host": 0, "suite": 0}
    assert {k: v for k, v in junit_faults(run).items() if v is not None} == failed
