"""A fact that could not be gathered, and how that reaches the report: once, with its reason.

Owns: :class:`FactMissing`, and :class:`Met`: what the facts keep of an engine error met while
gathering (whose fault it is and the cause it shares), typed by the raiser (an
:class:`~paddle_verify.engine.EngineError`'s ``fault``, a lost daemon's ``line``). Nothing here
reads a message's words: a fault not given is the image's. The plugin's outcome hook
(``plugin/outcomes.py``) fails the first check that meets a given cause with the reason alone
(no traceback through the suite's code) and reports every later check that meets the same cause
as not run.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import docker.errors

from ..engine import ENGINE_GONE, DaemonUnreachable, EngineError, daemon_fault
from ..exits import Fault as Fault
from ..manifest import Variant


class FactMissing(AssertionError):
    """A fact a check needs could not be gathered; the message says why, naming the variant.

    ``cause`` groups failures that share one cause (a missing image, a dead container, a
    lost daemon: its one line, whichever variant met it): by default the message itself.
    ``fault`` says whose it is, as the raiser says it (default: the image's).
    """

    def __init__(self, message: str, *, cause: str | None = None, fault: Fault | None = None) -> None:
        super().__init__(message)
        self.cause = cause or message
        self.fault: Fault = fault or "image"


@dataclass(frozen=True)
class Met:
    """What the facts keep of an error met while gathering, besides its words: whose fault it is
    (``None``: the image's) and the cause it shares with other failures (``None``: its own words)."""

    fault: Fault | None = None
    cause: str | None = None


def met(exc: BaseException) -> Met:
    """The typed part of an engine error ``exc``: a lost daemon (the host's, one cause: its line), an
    engine error's own ``fault``, a daemon's refusal (:func:`~paddle_verify.engine.daemon_fault`)."""
    if isinstance(exc, DaemonUnreachable):
        return Met("host", exc.line)
    if isinstance(exc, EngineError):
        return Met(exc.fault)
    if isinstance(exc, docker.errors.APIError):
        return Met(daemon_fault(exc))
    return Met("host") if isinstance(exc, ENGINE_GONE) else Met()


@dataclass
class VariantFacts:
    """What every kind of facts has: its variant, and one way to say a fact of it is missing."""

    variant: Variant

    @property
    def name(self) -> str:
        return self.variant.name

    def missing(self, why: str, met: Met | None = None) -> FactMissing:
        """The missing fact ``why``, naming the variant; ``met``: whose and which cause, as typed where it arose."""
        met = met or Met()
        text = why if why.startswith(f"{self.name}:") else f"{self.name}: {why}"
        return FactMissing(text, cause=met.cause, fault=met.fault)

    def _step(self, value: object) -> object:
        """A probe step's value; a step the probe could not finish (``{"error": ...}``) is missing."""
        if isinstance(value, dict) and set(value) == {"error"}:
            raise self.missing(str(cast(dict[str, object], value)["error"]))
        return value

    def _child(self, value: object, what: str, *, killed: str = "", killed_fault: Fault | None = None) -> Any:
        """The JSON a probe's child interpreter printed, or a missing fact naming why it did not;
        ``killed``: what to say when the child was killed by SIGKILL, ``killed_fault``: whose that is."""
        res = cast(dict[str, Any] | None, self._step(value))
        if not res:
            raise self.missing(f"{what} was not probed")
        if not res.get("data"):
            why = res["error"] or res["stderr"].strip()[-500:] or f"exit code {res['rc']}"
            fault = None
            if res["rc"] == -9 and killed:
                why, fault = f"killed by SIGKILL; {killed}", killed_fault
            raise self.missing(f"{what} in {self.variant.python} gave no answer: {why}", Met(fault))
        return res["data"]
