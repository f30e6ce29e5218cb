"""The run's engines as columns: one :class:`Column` per engine of ``--engine`` (the engine, what
the run learned when it reached it, its session and its gatherer), held by the :class:`Fleet`.

Owns: reaching every engine once, concurrently, for its fingerprint; which engine a variant is
checked on; the ONE lost-engine failure (:meth:`Column.failure`: "engine NAME lost: REASON", the
host's, one cause per engine), raised by :meth:`Fleet.of` for a column without a session and by a
column's gatherer when the engine goes away under a fact. No pytest hook here (``engines.py``
and ``fixtures.py`` are the plugin's side); nothing is reached before it is asked for.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..engine import DaemonUnreachable, Engine, Session, connect
from ..engine.fingerprint import DOCKER, UNKNOWN, describe, fingerprint
from ..facts import FactMissing, Gatherer
from ..gpu import HostGpus
from ..manifest import Variant


@dataclass
class EngineState:
    """What the run learned of one engine when it first reached it."""

    engine: Engine
    lost: DaemonUnreachable | None = None  # why it could not be reached (typed: url, reason, line)
    info: dict[str, Any] = field(default_factory=dict)  # its `docker info`
    fingerprint: dict[str, Any] = field(default_factory=dict)


@dataclass
class Column:
    """One engine of the run and all the run holds on it; a lost engine's column has no session."""

    engine: Engine
    state: EngineState
    _session: Session | None = None
    _gatherer: Gatherer | None = None

    @property
    def name(self) -> str:
        return self.engine.name

    @property
    def opened(self) -> bool:
        return self._session is not None

    def open(self, session: Session) -> None:
        """The column's session (its owner, the ``columns`` fixture, closes it) and its gatherer."""
        self._session = session
        self._gatherer = Gatherer(session, lost=lambda variant, exc: self.failure(variant, exc))

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session.client.close()

    @property
    def session(self) -> Session:
        if self._session is None:
            raise self.failure(None)
        return self._session

    @property
    def gatherer(self) -> Gatherer:
        if self._gatherer is None:
            raise self.failure(None)
        return self._gatherer

    def failure(self, variant: Variant | None, exc: DaemonUnreachable | None = None) -> FactMissing:
        """THE lost engine's one failure, built here only: naming the variant (if any), the engine and
        why (``exc``: the error met now, else the one met when the engine was reached)."""
        lost = exc or self.state.lost
        reason = lost.line if lost else "no session was opened on it"
        prefix = f"{variant.id}: " if variant else ""
        return FactMissing(f"{prefix}engine {self.name} lost: {reason}", cause=lost_cause(self.name), fault="host")


def lost_cause(name: str) -> str:
    """The cause every failure of a lost engine's column shares (one failure per engine)."""
    return f"engine {name} lost"


class Fleet:
    """Every engine of the run as a column, each reached once (on first need), all at once."""

    def __init__(
        self, engines: list[Engine], *, note: Callable[[dict[str, Any]], None], host_gpus: Callable[[], HostGpus]
    ) -> None:
        self.engines = engines
        self._note = note  # where the engines' notes go (summary.json ``notes.engines``)
        self._host_gpus = host_gpus  # a local engine's fingerprint names this host's GPUs
        self._lock = threading.Lock()
        self._columns: dict[str, Column] | None = None
        self.lost_midrun: set[str] = set()  # engines reached at first and lost later

    @property
    def several(self) -> bool:
        return len(self.engines) > 1

    def engine_of(self, variant: Variant | None) -> Engine:
        """The engine ``variant`` is checked on (the first for no variant, and in a run of one)."""
        name = variant.engine if variant else None
        return next((e for e in self.engines if e.name == name), self.engines[0])

    def on_engines(self, variants: Iterable[Variant]) -> list[Variant]:
        """Each variant on each engine; with one engine, the variants as they are (ids unchanged)."""
        if not self.several:
            return list(variants)
        return [v.on(e.name) for v in variants for e in self.engines]

    def columns(self) -> dict[str, Column]:
        """Each engine's column (reached now if it was not yet), by name."""
        with self._lock:
            if self._columns is None:
                with concurrent.futures.ThreadPoolExecutor(len(self.engines), thread_name_prefix="engine") as pool:
                    columns = list(pool.map(self._reach, self.engines))
                self._columns = {c.name: c for c in columns}
                self._note(self.notes())
            return self._columns

    def _reach(self, engine: Engine) -> Column:
        try:
            client = connect(engine=engine)
        except DaemonUnreachable as exc:
            return Column(engine, EngineState(engine, lost=exc))
        try:
            gpus = self._host_gpus().describe() if engine.local else UNKNOWN
            state = EngineState(engine, info=dict(client.info()), fingerprint=fingerprint(client, gpus=gpus))
        except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
            lost = DaemonUnreachable(f"engine {engine.name} at {engine.url}: {exc}", url=engine.url, reason=str(exc))
            state = EngineState(engine, lost=lost)
        finally:
            client.close()
        return Column(engine, state)

    def column(self, variant: Variant | None) -> Column:
        """The column of ``variant``'s engine (the first engine's for no variant), opened or not."""
        return self.columns()[self.engine_of(variant).name]

    def of(self, variant: Variant | None) -> Column:
        """The open column of ``variant``'s engine, or the lost engine's one failure."""
        column = self.column(variant)
        if not column.opened:
            raise column.failure(variant)
        return column

    def opened(self) -> list[Column]:
        return [c for c in self.columns().values() if c.opened]

    def kind(self, variant: Variant) -> str:
        """The kind of engine ``variant`` is checked on (``docker``, ``podman``; its fingerprint's)."""
        return str(self.column(variant).state.fingerprint.get("engine", DOCKER))

    def lost(self, name: str) -> str | None:
        state = self.columns()[name].state
        return state.lost.line if state.lost else None

    def mark_lost(self, name: str, lost: DaemonUnreachable) -> None:
        """An engine reached at first that was gone when its session was opened, or later."""
        state = self.columns()[name].state
        with self._lock:
            state.lost = state.lost or lost
        self._note(self.notes())

    def gone(self, name: str) -> str | None:
        """Why engine ``name`` is lost, asking it now (a ping) if it was not known lost yet: what a
        failed check of its column calls to tell a lost engine from the image's failure."""
        state = self.columns()[name].state
        if state.lost:
            return state.lost.line
        try:
            connect(timeout=5, engine=state.engine).close()
        except DaemonUnreachable as exc:
            self.mark_lost(name, exc)
            with self._lock:
                self.lost_midrun.add(name)
            return self.lost(name)
        return None

    def notes(self) -> dict[str, Any]:
        assert self._columns is not None, "the engines were not reached yet"
        return {
            name: {
                "url": c.engine.url,
                "lost": c.state.lost.line if c.state.lost else None,
                "fingerprint": c.state.fingerprint,
            }
            for name, c in self._columns.items()
        }

    def header(self) -> list[str]:
        return [
            f"paddle-verify engine {name}: {c.engine.url}: "
            + (f"unreachable: {c.state.lost.reason}" if c.state.lost else describe(c.state.fingerprint))
            for name, c in self.columns().items()
        ]
