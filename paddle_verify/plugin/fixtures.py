"""The fixtures that own the run's Docker resources and hand out its facts.

``docker_session`` is the one owner of the engine session: it opens it (sweeping dead
sessions' leftovers) and is the only one that closes it (its containers, then its
threads). ``gatherer`` is the one per-variant gatherer; ``facts``, ``all_facts``,
``ssh_facts`` and ``gpu_facts`` read from it. ``host`` is a testinfra host on the
variant's keep-alive container: the extension API for a user's own checks.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from ..engine import DaemonUnreachable, Session, connect, sweep
from ..facts import Gatherer, ImageFacts, ImageSettings, Kind
from ..facts import probe as image_probe
from ..manifest import Variant
from .lifecycle import RECORDER_KEY
from .selection import selected

EXIT_DAEMON = 7  # distinct from pytest's 1 (failed), 4 (usage) and 5 (no tests)


@pytest.fixture(scope="session")
def selected_variants(pytestconfig: pytest.Config) -> list[Variant]:
    """Every variant this run checks, in manifest order."""
    return selected(pytestconfig).copy()


@pytest.fixture(scope="session")
def docker_session(pytestconfig: pytest.Config) -> Generator[Session, None, None]:
    """The engine connection, this run's labels, containers and threads; all removed at the end."""
    try:
        client = connect()
    except DaemonUnreachable as exc:
        pytest.exit(str(exc), returncode=EXIT_DAEMON)
    session = Session(client, run_label=pytestconfig.getoption("--run-label"))
    recorder = pytestconfig.stash[RECORDER_KEY]
    recorder.note("swept", sweep(client, dead_only=True))
    recorder.note("session", session.id)
    try:
        yield session
    finally:
        session.close()
        client.close()


@pytest.fixture(scope="session")
def gatherer(docker_session: Session) -> Gatherer:
    """The run's one per-variant gatherer (image, SSH, GPU and benchmark facts)."""
    return Gatherer(docker_session)


@pytest.fixture(scope="session")
def image_facts(
    gatherer: Gatherer, docker_session: Session, selected_variants: list[Variant], pytestconfig: pytest.Config
) -> Generator[Kind[ImageFacts], None, None]:
    """The image facts of every selected variant: started at once, all variants side by side."""
    settings = ImageSettings(
        timeout=pytestconfig.getoption("--exec-timeout"),
        pull=pytestconfig.getoption("--pull"),
        memory=pytestconfig.getoption("--memory"),
    )
    kind = Kind("image", lambda v: image_probe.gather(docker_session, v, settings))
    if not hasattr(pytestconfig, "workerinput"):
        gatherer.start(kind, selected_variants)  # an xdist worker gathers only the variants it is given
    yield kind
    cost = {n: {"execs": f.execs, "seconds": round(f.seconds, 3)} for n, f in gatherer.finished(kind).items()}
    pytestconfig.stash[RECORDER_KEY].note("variants", cost)


@pytest.fixture
def facts(variant: Variant, gatherer: Gatherer, image_facts: Kind[ImageFacts]) -> ImageFacts:
    """What the suite learned about ``variant``'s image (gathered once per session)."""
    return gatherer.get(image_facts, variant)


@pytest.fixture
def all_facts(selected_variants: list[Variant], gatherer: Gatherer, image_facts: Kind[ImageFacts]) -> list[ImageFacts]:
    return [gatherer.get(image_facts, v) for v in selected_variants]


@pytest.fixture(scope="session")
def engine_info(docker_session: Session) -> dict[str, Any]:
    """The daemon's ``docker info`` (kernel, OS, runtimes)."""
    return dict(docker_session.client.info())


@pytest.fixture
def host(variant: Variant, facts: ImageFacts) -> Any:
    """A testinfra ``Host`` on ``variant``'s keep-alive container (the one the probe ran in)."""
    import testinfra

    if facts.container_id is None:
        raise facts.missing(f"no running container: {facts.error or facts.probe_error}")
    return testinfra.get_host(f"docker://{facts.container_id}")
