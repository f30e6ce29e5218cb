"""The run's engines (``--engine``): reached once each, concurrently, for their fingerprints, and
what a lost one costs: its column only.

An engine that cannot be reached at start, or that is lost during the run (:meth:`Fleet.gone`,
asked by :mod:`.outcomes` when a check of its column fails), fails one check of its column
with the reason (the others of that column are not run, naming it); the other engines'
checks run as usual. A run of one engine keeps today's rule: an unreachable
daemon is one message and exit code 7 (``docker_session``). The fingerprints head the
terminal report, go to ``summary.json`` (``notes.engines``) and the JUnit properties.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from ..engine import DaemonUnreachable, Engine, connect
from ..engine.client import UNREACHABLE
from ..engine.fingerprint import DOCKER, UNKNOWN, describe, fingerprint
from ..facts import FactMissing
from ..manifest import Variant
from .host_gpus import host_gpus_of
from .lifecycle import RECORDER_KEY
from .selection import engine_of, engines

T = TypeVar("T")


@dataclass
class EngineState:
    """What the run learned of one engine when it first reached it."""

    engine: Engine
    lost: str | None = None  # why it could not be reached ("Docker daemon unreachable at ...")
    info: dict[str, Any] = field(default_factory=dict)  # its `docker info`
    fingerprint: dict[str, Any] = field(default_factory=dict)


class Fleet:
    """Every engine of the run, each reached once (on first need), all at once."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.engines = engines(config)
        self._lock = threading.Lock()
        self._states: dict[str, EngineState] | None = None
        self.lost_midrun: set[str] = set()  # engines reached at first and lost later

    @property
    def several(self) -> bool:
        return len(self.engines) > 1

    def states(self) -> dict[str, EngineState]:
        """Each engine's state (reached now if it was not yet), by name."""
        with self._lock:
            if self._states is None:
                with concurrent.futures.ThreadPoolExecutor(len(self.engines), thread_name_prefix="engine") as pool:
                    states = list(pool.map(self._reach, self.engines))
                self._states = {s.engine.name: s for s in states}
                self.config.stash[RECORDER_KEY].note("engines", self.notes())
            return self._states

    def _reach(self, engine: Engine) -> EngineState:
        try:
            client = connect(engine=engine)
        except DaemonUnreachable as exc:
            return EngineState(engine, lost=str(exc))
        try:
            gpus = host_gpus_of(self.config).describe() if engine.local else UNKNOWN
            return EngineState(engine, info=dict(client.info()), fingerprint=fingerprint(client, gpus=gpus))
        except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
            return EngineState(engine, lost=f"engine {engine.name} at {engine.url}: {exc}")
        finally:
            client.close()

    def kind(self, variant: Variant) -> str:
        """The kind of engine ``variant`` is checked on (``docker``, ``podman``; its fingerprint's)."""
        state = self.states().get(engine_of(self.config, variant).name)
        return str(state.fingerprint.get("engine", DOCKER)) if state else DOCKER

    def lost(self, name: str) -> str | None:
        state = self.states().get(name)
        return state.lost if state else None

    def mark_lost(self, name: str, reason: str) -> None:
        """An engine reached at first that was gone when its session was opened."""
        state = self.states()[name]
        with self._lock:
            state.lost = state.lost or reason
        self.config.stash[RECORDER_KEY].note("engines", self.notes())

    def gone(self, name: str) -> str | None:
        """Why engine ``name`` is lost, asking it now (a ping) if it was not known lost yet: what a
        failed check of its column calls to tell a lost engine from the image's failure."""
        state = self.states().get(name)
        if state is None or state.lost:
            return state.lost if state else None
        try:
            connect(timeout=5, engine=state.engine).close()
        except DaemonUnreachable as exc:
            self.mark_lost(name, str(exc))
            with self._lock:
                self.lost_midrun.add(name)
            return self.lost(name)
        return None

    def missing(self, variant: Variant | None) -> FactMissing:
        """The one failure of a lost engine's column (the default engine's for a check of no variant)."""
        name = engine_of(self.config, variant).name if variant else self.engines[0].name
        prefix = f"{variant.id}: " if variant else ""
        return FactMissing(f"{prefix}engine {name} lost: {self.lost(name)}", cause=lost_cause(name), fault="host")

    def pick(self, by_engine: Mapping[str, T], variant: Variant) -> T:
        """``by_engine``'s entry for ``variant``'s engine, or the lost engine's failure."""
        name = engine_of(self.config, variant).name
        if name not in by_engine:
            raise self.missing(variant)
        return by_engine[name]

    def notes(self) -> dict[str, Any]:
        assert self._states is not None, "the engines were not reached yet"
        return {
            name: {"url": s.engine.url, "lost": s.lost, "fingerprint": s.fingerprint}
            for name, s in self._states.items()
        }

    def header(self) -> list[str]:
        return [
            f"paddle-verify engine {name}: {s.engine.url}: "
            + (
                f"unreachable: {s.lost.removeprefix(f'{UNREACHABLE}{s.engine.url}: ')}"
                if s.lost
                else describe(s.fingerprint)
            )
            for name, s in self.states().items()
        ]


def lost_cause(name: str) -> str:
    return f"engine {name} lost"


FLEET_KEY = pytest.StashKey[Fleet]()


def fleet_of(config: pytest.Config) -> Fleet:
    if FLEET_KEY not in config.stash:
        config.stash[FLEET_KEY] = Fleet(config)
    return config.stash[FLEET_KEY]


def variant_of(item: pytest.Item) -> Variant | None:
    params = getattr(getattr(item, "callspec", None), "params", {})
    variant = params.get("variant")
    return variant if isinstance(variant, Variant) else None


def pytest_report_header(config: pytest.Config) -> list[str]:
    if config.option.collectonly:  # listing the checks needs no engine: none is reached
        return [f"paddle-verify engine {e.name}: {e.url} (not reached: --collect-only)" for e in engines(config)]
    return fleet_of(config).header()


def pytest_sessionstart(session: pytest.Session) -> None:
    """Each engine reached once at start (also with ``-q``, where no header is printed): its
    fingerprint is in ``summary.json`` (under xdist, the controller's). Not with ``--collect-only``."""
    if not hasattr(session.config, "workerinput") and not session.config.option.collectonly:
        fleet_of(session.config).states()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A check of a lost engine's column sets nothing up and fails (once) with the engine's reason."""
    variant = variant_of(item)
    fleet = fleet_of(item.config)
    if variant is None:
        return
    name = engine_of(item.config, variant).name
    if fleet.lost(name) is None or not (fleet.several or name in fleet.lost_midrun):
        return
    missing = fleet.missing(variant)
    # Not through the fixtures: the lost engine's session, gatherer and facts do not exist.
    setattr(item, "setup", lambda: None)  # noqa: B010 - an instance's own, for this one run
    setattr(item, "runtest", _raiser(missing))  # noqa: B010


def _raiser(exc: BaseException) -> Callable[[], None]:
    def run() -> None:
        raise exc

    return run


@pytest.fixture(scope="session")
def fleet(pytestconfig: pytest.Config, record_testsuite_property: Callable[[str, object], None]) -> Fleet:
    """The run's engines and their fingerprints (JUnit properties ``engine.NAME.*``)."""
    fl = fleet_of(pytestconfig)
    for name, state in fl.states().items():
        record_testsuite_property(f"engine.{name}.url", state.engine.url)
        if state.lost:
            record_testsuite_property(f"engine.{name}.lost", state.lost)
        for key, value in state.fingerprint.items():
            text = ",".join(map(str, value)) if isinstance(value, list) else value
            record_testsuite_property(f"engine.{name}.{key}", text)
    return fl
