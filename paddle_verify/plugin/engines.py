"""The run's engines (``--engine``) in pytest: reached once each at the start for their fingerprints,
their columns opened (``columns``, the one owner of the engine sessions), and what a lost one
costs: its column only.

An engine that cannot be reached at start, or that is lost during the run (:meth:`.Fleet.gone`,
asked by :mod:`.outcomes` when a check of its column fails), fails one check of its column
with the reason (the others of that column are not run, naming it); the other engines'
checks run as usual. A run of one engine keeps today's rule: an unreachable daemon is one
message and exit code 7 (``columns``). The fingerprints head the terminal report, go to
``summary.json`` (``notes.engines``) and the JUnit properties. ``docker_session`` and ``gatherer``
are the default (first) engine's column's session and gatherer.
"""

from __future__ import annotations

from collections.abc import Callable, Generator

import pytest

from ..engine import DaemonUnreachable, Session, connect, sweep
from ..exits import ExitCode
from ..facts import Gatherer
from .fleet import Column, Fleet
from .run import run_of, variant_of

EXIT_DAEMON = ExitCode.DAEMON_UNREACHABLE  # distinct from pytest's 1 (failed), 4 (usage) and 5 (no tests)


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = run_of(config)
    if config.option.collectonly:  # listing the checks needs no engine: none is reached
        return [f"paddle-verify engine {e.name}: {e.url} (not reached: --collect-only)" for e in run.engines]
    return run.fleet.header()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Each engine reached once at start (also with ``-q``, where no header is printed): its
    fingerprint is in ``summary.json`` (under xdist, the controller's). Not with ``--collect-only``."""
    run = run_of(session.config)
    if not run.worker and not session.config.option.collectonly:
        run.fleet.columns()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A check of a lost engine's column sets nothing up and fails (once) with the engine's reason."""
    variant = variant_of(item)
    if variant is None:
        return
    fleet = run_of(item.config).fleet
    column = fleet.column(variant)
    if column.state.lost is None or not (fleet.several or column.name in fleet.lost_midrun):
        return
    # Not through the fixtures: the lost engine's session, gatherer and facts do not exist.
    setattr(item, "setup", lambda: None)  # noqa: B010 - an instance's own, for this one run
    setattr(item, "runtest", _raiser(column.failure(variant)))  # noqa: B010


def _raiser(exc: BaseException) -> Callable[[], None]:
    def run() -> None:
        raise exc

    return run


@pytest.fixture(scope="session")
def fleet(pytestconfig: pytest.Config, record_testsuite_property: Callable[[str, object], None]) -> Fleet:
    """The run's engines and their fingerprints (JUnit properties ``engine.NAME.*``)."""
    fl = run_of(pytestconfig).fleet
    for name, column in fl.columns().items():
        state = column.state
        record_testsuite_property(f"engine.{name}.url", state.engine.url)
        if state.lost:
            record_testsuite_property(f"engine.{name}.lost", state.lost.line)
        for key, value in state.fingerprint.items():
            text = ",".join(map(str, value)) if isinstance(value, list) else value
            record_testsuite_property(f"engine.{name}.{key}", text)
    return fl


@pytest.fixture(scope="session")
def columns(pytestconfig: pytest.Config, fleet: Fleet) -> Generator[Fleet, None, None]:
    """The fleet with a session open on every reachable engine (sweeping dead sessions' leftovers):
    the one owner of the sessions, which closes them all at the end (their containers, then threads).

    A run of one engine that cannot reach it stops at once (exit code 7); in a run of several,
    a lost engine has no session and its column fails once.
    """
    recorder = run_of(pytestconfig).recorder
    opened: list[Column] = []
    swept = 0
    try:
        for column in fleet.columns().values():
            if fleet.several and column.state.lost:
                continue
            try:
                client = connect(engine=column.engine)
            except DaemonUnreachable as exc:
                if not fleet.several:
                    pytest.exit(str(exc), returncode=EXIT_DAEMON)
                fleet.mark_lost(column.name, exc)
                continue
            run_label = pytestconfig.getoption("--run-label")
            column.open(Session(client, run_label=run_label, url=column.engine.url))
            opened.append(column)
            swept += sweep(client, dead_only=True)
        recorder.note("swept", swept)
        recorder.note("session", next((c.session.id for c in opened), None))
        recorder.note("sessions", {c.name: c.session.id for c in opened})
        yield fleet
    finally:
        for column in reversed(opened):
            column.close()


@pytest.fixture(scope="session")
def docker_session(columns: Fleet) -> Session:
    """The default (first) engine's session, for code that needs one engine."""
    return columns.of(None).session


@pytest.fixture(scope="session")
def gatherer(columns: Fleet) -> Gatherer:
    """The default (first) engine's gatherer."""
    return columns.of(None).gatherer
