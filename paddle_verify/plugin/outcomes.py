"""One cause, one failure: how a missing fact reaches the report; and whose fault a failure is.

A check that meets a :class:`~paddle_verify.facts.FactMissing` (the image is absent, the
container died, the probe failed, the daemon went away) fails with the reason alone, no
traceback through the suite's code. Every later check that meets the same cause on the
same engine is reported as not run (skipped), naming the check that reported it: in a
run of several engines (``--engine``), each engine's column reports its own causes.

A lost engine is one such cause wherever it strikes: any failure of a check that uses the
engine (its fixtures) or that met one of the engine's errors (:data:`ENGINE_GONE`: docker-py's
requests/urllib3 errors) is, while that engine no longer answers (:meth:`.Fleet.gone`), the
engine's one failure ("engine NAME lost: Docker daemon unreachable at URL: reason"), the host's
fault, reported by the first check and "not run" in every other one, with no traceback.

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

import pytest
from pluggy import Result

# What a lost connection to the daemon raises through docker-py, where the suite did not catch it.
from ..engine import ENGINE_GONE as ENGINE_GONE

# Beside pytest's 1 (failed), 4 (usage), 5 (no tests) and the suite's 7 (the daemon unreachable
# at the start: ``plugin/fixtures.py``): every failure of the run is the host's, none the image's.
from ..exits import EXIT_HOST as EXIT_HOST  # in a leaf module, so that `paddle-verify host` needs no pytest
from ..exits import Fault
from ..facts import FactMissing
from ..manifest import Variant
from .run import run_of, variant_of

# The fixtures through which a check uses an engine (all the facts fixtures use ``columns``).
ENGINE_FIXTURES = frozenset({"columns", "docker_session", "gatherer", "fleet"})


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
    variant = variant_of(item)
    exc = _engine_lost(item, variant, excinfo.value)
    if exc is not excinfo.value:
        report.sections = []  # what docker-py, paramiko, urllib3 logged on the way is the symptom
    if isinstance(exc, FactMissing):
        run = run_of(item.config)
        cause = f"{run.engine_of(variant).name}: {exc.cause}"
        first = run.first.setdefault(cause, item.nodeid)
        if first == item.nodeid:
            report.longrepr = str(exc)
        else:
            name = first.split("::")[-1]
            report.outcome = "skipped"
            report.longrepr = (
                str(item.path),
                item.location[1] or 0,
                f"not run: {exc} (reported once, by {name})",
            )
            return
    if "fault" not in dict(item.user_properties):  # the first failing phase says (JUnit reads the item's)
        whose = fault(item, exc)
        item.user_properties.append(("fault", whose))
        report.user_properties.append(("fault", whose))


def _engine_lost(item: pytest.Item, variant: Variant | None, exc: BaseException) -> BaseException:
    """``exc``, or the lost engine's one failure when the check used its engine (or met its errors)
    and the engine no longer answers: whatever the check then saw is the engine's doing."""
    if not isinstance(exc, ENGINE_GONE) and ENGINE_FIXTURES.isdisjoint(getattr(item, "fixturenames", ())):
        return exc
    fleet = run_of(item.config).fleet
    column = fleet.column(variant)
    if fleet.gone(column.name) is None:
        return exc
    return column.failure(variant)


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
