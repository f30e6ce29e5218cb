"""The suite's own exit statuses and whose fault a failure is: a leaf module (it imports only the
standard library), so that ``paddle-verify host`` on a bare GPU host needs no pytest, and so that
the engine layer, the facts, the plugin and the reports all read one definition."""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

# Whose fault a failure is: set where it arises (an exception's ``fault``), never read back from words.
Fault = Literal["image", "host", "suite"]


class ExitCode(IntEnum):
    """Beside pytest's own (``pytest.ExitCode``: 1 failed, 4 usage, 5 no tests)."""

    DAEMON_UNREACHABLE = 7  # a run of one engine that could not reach it at the start
    HOST = 8  # every failure of the run is the host's, none the image's (the gate); the host is not
    # ready for the manifest's gpu variants (``paddle-verify host``)


EXIT_HOST = ExitCode.HOST  # the name used before the enum
EXIT_DAEMON = ExitCode.DAEMON_UNREACHABLE
