"""One cause, one failure: how a missing fact reaches the report.

A check that meets a :class:`~paddle_verify.facts.FactMissing` (the image is absent, the
container died, the probe failed, the daemon went away) fails with the reason alone, no
traceback through the suite's code. Every later check that meets the same cause on the
same engine is reported as not run (skipped), naming the check that reported it: in a
run of several engines (``--engine``), each engine's column reports its own causes.
"""

from __future__ import annotations

from collections.abc import Generator

import pytest
from pluggy import Result

from ..facts import FactMissing
from .engines import variant_of

FIRST_KEY = pytest.StashKey[dict[str, str]]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Result[pytest.TestReport], None]:
    outcome = yield
    report = outcome.get_result()
    excinfo = call.excinfo
    if excinfo is None or not report.failed or not isinstance(excinfo.value, FactMissing):
        return
    variant = variant_of(item)
    cause = f"{variant.engine if variant else None}: {excinfo.value.cause}"
    first = item.config.stash.setdefault(FIRST_KEY, {}).setdefault(cause, item.nodeid)
    if first == item.nodeid:
        report.longrepr = str(excinfo.value)
        return
    name = first.split("::")[-1]
    report.outcome = "skipped"
    report.longrepr = (str(item.path), item.location[1] or 0, f"not run: {excinfo.value} (reported once, by {name})")
