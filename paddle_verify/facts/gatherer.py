"""The one per-variant gatherer: each kind of facts (image, SSH, GPU, benchmarks) of each
variant is gathered once per session, concurrently, in the session's threads.

A :class:`Kind` names what is gathered and how (a function of the variant that never
raises for the engine's errors: they are the facts' own ``error``). What escapes a kind
all the same because the daemon went away (docker-py's requests/urllib3 errors) reaches
its reader as the lost engine's one :class:`~paddle_verify.facts.FactMissing` (the host's: built by
``lost``, the plugin's engine column, else from the typed error). The gatherer keeps one
future per kind and variant; it starts nothing it is not asked for, and owns no resource:
the threads and containers belong to the :class:`~paddle_verify.engine.Session`, whose
owner closes it.
"""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

from ..engine import ENGINE_GONE, DaemonUnreachable, Session, translated
from ..manifest import Variant
from .missing import FactMissing

F = TypeVar("F")


@dataclass(frozen=True)
class Kind(Generic[F]):
    """One kind of facts: ``gather(variant)`` gives them (run once per variant, in a thread)."""

    name: str
    gather: Callable[[Variant], F]


class Gatherer:
    """Facts of every kind and variant, each gathered once, concurrently, on first use."""

    def __init__(
        self, session: Session, lost: Callable[[Variant, DaemonUnreachable], FactMissing] | None = None
    ) -> None:
        self.session = session
        self.lost = lost or _lost
        self._lock = threading.Lock()
        self._futures: dict[tuple[str, str], concurrent.futures.Future[Any]] = {}

    def start(self, kind: Kind[F], variants: Iterable[Variant]) -> None:
        """Start gathering ``kind`` for ``variants`` in the background (what has started is kept)."""
        with self._lock:
            for variant in variants:
                key = (kind.name, variant.name)
                if key not in self._futures:
                    self._futures[key] = self.session.submit(kind.gather, variant)

    def get(self, kind: Kind[F], variant: Variant) -> F:
        """The facts (waiting for them); gathered now if nobody started them."""
        self.start(kind, [variant])
        try:
            return cast(F, self._futures[(kind.name, variant.name)].result())
        except ENGINE_GONE as exc:
            raise self.lost(variant, translated(exc, self.session.url, variant=variant.name)) from None

    def finished(self, kind: Kind[F]) -> dict[str, F]:
        """The facts of ``kind`` that are already there, by variant (for the reports)."""
        with self._lock:
            done = {v: f for (k, v), f in self._futures.items() if k == kind.name and f.done()}
        return {v: cast(F, f.result()) for v, f in done.items() if not f.cancelled() and f.exception() is None}


def _lost(variant: Variant, exc: DaemonUnreachable) -> FactMissing:
    """The lost daemon's failure for ``variant``: one cause for the run (its typed ``line``)."""
    return FactMissing(str(exc), cause=exc.line, fault="host")
