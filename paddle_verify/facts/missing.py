"""A fact that could not be gathered, and how that reaches the report: once, with its reason.

Owns: :class:`FactMissing` and whose fault its cause is. The raiser says whose (``fault=``,
or an :class:`~paddle_verify.engine.EngineError`'s own ``fault``); :func:`fault_of`, a regex
over the words, is only the fallback for raisers that do not say yet. The plugin's
outcome hook (``plugin/outcomes.py``) fails the first check that meets a given cause with
the reason alone (no traceback through the suite's code) and reports every later check that
meets the same cause as not run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, cast

from ..engine.client import UNREACHABLE
from ..exits import Fault as Fault
from ..manifest import Variant

# The FALLBACK for a FactMissing whose raiser did not say whose fault it is (``fault=``): the
# host's causes, as the suite and the engine word them (on this host the run could not have
# gone otherwise, whatever the image); any other cause is the image's. The lost engine's
# raisers (engine/client.py DaemonUnreachable, the gatherer, the fleet, the outcome hook) set
# ``fault="host"`` themselves; new raisers must too, rather than add a phrase here.
HOST_CAUSES = re.compile(
    "|".join(
        [
            re.escape(UNREACHABLE),  # the daemon lost or unreachable
            r"no space left on device",  # the disk is full
            r"no NVIDIA GPU on this host",  # no GPU
            r"API version|client version .* is too new",  # the engine is too old for the suite
            r"out of memory at the host's limit",  # no --memory limit: the host ran out
            r"killed on the host",  # a container or process that only waited, killed from outside
        ]
    ),
    re.I,
)


def fault_of(cause: str) -> Fault:
    """``host`` when ``cause`` is one of the host's (:data:`HOST_CAUSES`), else ``image``: the
    fallback when the raiser did not say (see :data:`HOST_CAUSES`)."""
    return "host" if HOST_CAUSES.search(cause) else "image"


class FactMissing(AssertionError):
    """A fact a check needs could not be gathered; the message says why, naming the variant.

    ``cause`` groups failures that share one cause (a missing image, a dead container, a
    lost daemon): by default the message itself; a lost daemon is one cause for the run.
    ``fault`` says whose it is: given by the raiser, or (fallback) read from the words (:func:`fault_of`).
    """

    def __init__(self, message: str, *, cause: str | None = None, fault: Fault | None = None) -> None:
        super().__init__(message)
        cause = cause or message
        self.fault: Fault = fault or fault_of(f"{message} {cause}")
        if UNREACHABLE in cause:  # one daemon, one cause: whichever variant or fact met it
            cause = cause[cause.index(UNREACHABLE) :]
        self.cause = cause


@dataclass
class VariantFacts:
    """What every kind of facts has: its variant, and one way to say a fact of it is missing."""

    variant: Variant

    @property
    def name(self) -> str:
        return self.variant.name

    def missing(self, why: str) -> FactMissing:
        return FactMissing(why if why.startswith(f"{self.name}:") else f"{self.name}: {why}")

    def _step(self, value: object) -> object:
        """A probe step's value; a step the probe could not finish (``{"error": ...}``) is missing."""
        if isinstance(value, dict) and set(value) == {"error"}:
            raise self.missing(str(cast(dict[str, object], value)["error"]))
        return value

    def _child(self, value: object, what: str, *, killed: str = "") -> Any:
        """The JSON a probe's child interpreter printed, or a missing fact naming why it did not;
        ``killed``: what to say when the child was killed by SIGKILL."""
        res = cast(dict[str, Any] | None, self._step(value))
        if not res:
            raise self.missing(f"{what} was not probed")
        if not res.get("data"):
            why = res["error"] or res["stderr"].strip()[-500:] or f"exit code {res['rc']}"
            if res["rc"] == -9 and killed:
                why = f"killed by SIGKILL; {killed}"
            raise self.missing(f"{what} in {self.variant.python} gave no answer: {why}")
        return res["data"]
