"""One cause, one failure: how a missing fact reaches the report; and whose fault a failure is.

A check that meets a :class:`~paddle_verify.facts.FactMissing` (the image is absent, the
container died, the probe failed, the daemon went away) fails with the reason alone, no
traceback through the suite's code. Every later check that meets the same cause on the
same engine is reported as not run (skipped), naming the check that reported it: in a
run of several engines (``--engine``), each engine's column reports its own causes.

Every failure (a failed check or an error in its set-up) is attributed (:func:`fault`): the
**image**'s (a check's assertion), the **host**'s (the daemon lost or unreachable, out of
memory at the host's limit, no GPU, the engine too old, the disk full, a container killed
from outside; and the assertions of the checks marked ``about_host``: the host's kernel, its
GPU) or the **suite**'s own (any other exception: an internal error). The fault is the
``fault`` user property of the test (JUnit ``<property>``, ``summary.json``'s rows); a run
whose failures are all the host's exits with :data:`EXIT_HOST`.
"""

from __future__ import annotations

from collections.abc import Generator

import paramiko
import pytest
import requests
from pluggy import Result

from ..engine import DaemonUnreachable

# Beside pytest's 1 (failed), 4 (usage), 5 (no tests) and the suite's 7 (the daemon unreachable
# at the start: ``plugin/fixtures.py``): every failure of the run is the host's, none the image's.
from ..exits import EXIT_HOST as EXIT_HOST  # in a leaf module, so that `paddle-verify host` needs no pytest
from ..facts import FactMissing
from ..facts.missing import Fault
from .engines import variant_of

FIRST_KEY = pytest.StashKey[dict[str, str]]()
# What a lost connection to the daemon raises through docker-py, where the suite did not catch it.
ENGINE_GONE = (DaemonUnreachable, requests.exceptions.ConnectionError, ConnectionError, paramiko.SSHException)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "about_host: the check verifies the host (its kernel, its GPU): its failures are the host's"
    )
    config.pluginmanager.register(Faults(), "paddle-verify-faults")


def fault(item: pytest.Item, exc: BaseException) -> Fault:
    """Whose fault the failure ``exc`` of ``item`` is: the image's, the host's or the suite's."""
    if isinstance(exc, FactMissing):
        return exc.fault
    if isinstance(exc, AssertionError | pytest.fail.Exception):  # a check's verdict (a finding with --release)
        return "host" if item.get_closest_marker("about_host") else "image"
    if isinstance(exc, ENGINE_GONE):
        return "host"
    return "suite"  # an internal error: the suite's own bug


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    if excinfo is None or not report.failed:
        return
    if isinstance(excinfo.value, FactMissing):
        variant = variant_of(item)
        cause = f"{variant.engine if variant else None}: {excinfo.value.cause}"
        first = item.config.stash.setdefault(FIRST_KEY, {}).setdefault(cause, item.nodeid)
        if first == item.nodeid:
            report.longrepr = str(excinfo.value)
        else:
            name = first.split("::")[-1]
            report.outcome = "skipped"
            report.longrepr = (
                str(item.path),
                item.location[1] or 0,
                f"not run: {excinfo.value} (reported once, by {name})",
            )
            return
    if "fault" not in dict(item.user_properties):  # the first failing phase says (JUnit reads the item's)
        whose = fault(item, excinfo.value)
        item.user_properties.append(("fault", whose))
        report.user_properties.append(("fault", whose))


class Faults:
    """The run's failures counted by fault (on the controller under xdist, from the workers'
    reports), and the exit code of a run that failed only for the host's reasons."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.failed:
            whose = str(dict(report.user_properties).get("fault", "unattributed"))
            self.counts[whose] = self.counts.get(whose, 0) + 1

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        if exitstatus == pytest.ExitCode.TESTS_FAILED and set(self.counts) == {"host"}:
            session.exitstatus = EXIT_HOST
