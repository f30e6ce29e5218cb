"""The fixtures that own the run's Docker resources and hand out its facts.

``sessions`` is the one owner of the engine sessions (one per engine of ``--engine``, by
name): it opens them (sweeping dead sessions' leftovers) and is the only one that closes
them (their containers, then their threads); ``docker_session`` is the default (first)
engine's. ``gatherers`` holds one per-variant gatherer per engine; ``facts``,
``all_facts``, ``facts_on_every_engine``, ``engine_info``, ``ssh_facts`` and ``gpu_facts`` read from the variant's
engine. ``host`` is a testinfra host on the variant's keep-alive container: the extension
API for a user's own checks.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, TypeVar

import pytest

from ..engine import DaemonUnreachable, Engine, Session, connect, daemon_url, sweep
from ..exits import ExitCode
from ..facts import FactMissing, Gatherer, ImageFacts, ImageSettings, Kind, snapshot
from ..facts import probe as image_probe
from ..manifest import Variant
from ..report import sbom
from .engines import Fleet, lost_cause, variant_of
from .lifecycle import RECORDER_KEY
from .reuse import reused_variants
from .selection import engine_of, on_engines, selected

T = TypeVar("T")

EXIT_DAEMON = ExitCode.DAEMON_UNREACHABLE  # distinct from pytest's 1 (failed), 4 (usage) and 5 (no tests)


@pytest.fixture(scope="session")
def selected_variants(pytestconfig: pytest.Config) -> list[Variant]:
    """Every variant this run checks, in manifest order."""
    return selected(pytestconfig).copy()


@pytest.fixture(scope="session")
def sessions(pytestconfig: pytest.Config, fleet: Fleet) -> Generator[dict[str, Session], None, None]:
    """One session per reachable engine, by engine name; all of them closed at the end (the one owner).

    A run of one engine that cannot reach it stops at once (exit code 7); in a run of several,
    a lost engine has no session and its column fails once (:mod:`.engines`).
    """
    recorder = pytestconfig.stash[RECORDER_KEY]
    opened: dict[str, Session] = {}
    swept = 0
    try:
        for engine in fleet.engines:
            if fleet.several and fleet.lost(engine.name):
                continue
            try:
                client = connect(engine=engine)
            except DaemonUnreachable as exc:
                if not fleet.several:
                    pytest.exit(str(exc), returncode=EXIT_DAEMON)
                fleet.mark_lost(engine.name, str(exc))
                continue
            opened[engine.name] = Session(client, run_label=pytestconfig.getoption("--run-label"), url=engine.url)
            swept += sweep(client, dead_only=True)
        recorder.note("swept", swept)
        recorder.note("session", next((s.id for s in opened.values()), None))
        recorder.note("sessions", {name: s.id for name, s in opened.items()})
        yield opened
    finally:
        for session in reversed(opened.values()):
            session.close()
            session.client.close()


@pytest.fixture(scope="session")
def docker_session(sessions: dict[str, Session], fleet: Fleet) -> Session:
    """The default (first) engine's session, for code that needs one engine."""
    return _first(sessions, fleet)


def _first(by_engine: dict[str, T], fleet: Fleet) -> T:
    name = fleet.engines[0].name
    if name not in by_engine:
        raise FactMissing(f"engine {name} lost: {fleet.lost(name)}", cause=lost_cause(name), fault="host")
    return by_engine[name]


@pytest.fixture(scope="session")
def gatherers(sessions: dict[str, Session]) -> dict[str, Gatherer]:
    """One per-variant gatherer per engine (image, SSH, GPU and benchmark facts), by engine name."""
    return {name: Gatherer(session) for name, session in sessions.items()}


@pytest.fixture(scope="session")
def gatherer(gatherers: dict[str, Gatherer], fleet: Fleet) -> Gatherer:
    """The default (first) engine's gatherer."""
    return _first(gatherers, fleet)


@pytest.fixture(scope="session")
def image_facts(
    gatherers: dict[str, Gatherer],
    sessions: dict[str, Session],
    fleet: Fleet,
    selected_variants: list[Variant],
    pytestconfig: pytest.Config,
    record_testsuite_property: Callable[[str, object], None],
) -> Generator[Kind[ImageFacts], None, None]:
    """The image facts of every selected variant on every engine: started at once, all side by side.
    With ``--pull``, the repository digest each engine ran is in ``summary.json`` (``notes.variants``)
    and the JUnit properties (``image.VARIANT@ENGINE.repo_digest``)."""
    settings = ImageSettings(
        timeout=pytestconfig.getoption("--exec-timeout"),
        pull=pytestconfig.getoption("--pull"),
        memory=pytestconfig.getoption("--memory"),
    )
    kind = Kind("image", lambda v: image_probe.gather(fleet.pick(sessions, v), v, settings))
    if not hasattr(pytestconfig, "workerinput"):  # an xdist worker gathers only the variants it is given
        reused = reused_variants(pytestconfig)  # reported from a stored run (--reuse-verdicts): no container
        for variant in on_engines(pytestconfig, selected_variants):
            if engine_of(pytestconfig, variant).name in gatherers and variant.id not in reused:
                fleet.pick(gatherers, variant).start(kind, [variant])
    yield kind
    finished = [f for g in gatherers.values() for f in g.finished(kind).values()]
    recorder = pytestconfig.stash[RECORDER_KEY]
    recorder.note("variants", {f.variant.id: _variant_note(f, fleet.engines[0].name) for f in finished})
    for f in finished:
        if f.pulled:
            record_testsuite_property(f"image.{f.variant.id}.repo_digest", f.repo_digest or "none")
    recorder.files["facts.json"] = snapshot.snapshots(finished)  # the controller's (not an xdist worker's)
    recorder.files |= sbom.files(recorder.files["facts.json"]["variants"])  # sbom/<variant>.cdx.json


def _variant_note(f: ImageFacts, default_engine: str) -> dict[str, Any]:
    note: dict[str, Any] = {"execs": f.execs, "seconds": round(f.seconds, 3)}
    if f.pulled:  # the tag each engine pulled, and what it resolved to there
        note |= {"image": f.variant.image, "engine": f.variant.engine or default_engine, "repo_digest": f.repo_digest}
    return note


@pytest.fixture
def facts(variant: Variant, gatherers: dict[str, Gatherer], fleet: Fleet, image_facts: Kind[ImageFacts]) -> ImageFacts:
    """What the suite learned about ``variant``'s image on its engine (gathered once per session)."""
    return fleet.pick(gatherers, variant).get(image_facts, variant)


@pytest.fixture
def facts_on_every_engine(
    variant: Variant, gatherers: dict[str, Gatherer], fleet: Fleet, image_facts: Kind[ImageFacts]
) -> list[ImageFacts]:
    """The image facts of ``variant`` on every engine that has a session (a lost one fails its own column)."""
    return [gatherers[e.name].get(image_facts, variant.on(e.name)) for e in fleet.engines if e.name in gatherers]


@pytest.fixture
def all_facts(
    request: pytest.FixtureRequest,
    selected_variants: list[Variant],
    gatherers: dict[str, Gatherer],
    fleet: Fleet,
    image_facts: Kind[ImageFacts],
) -> list[ImageFacts]:
    """The image facts of every selected variant on the same engine as the check's variant."""
    variant = _variant_param(request)
    engine = variant.engine if variant else None
    return [fleet.pick(gatherers, v.on(engine)).get(image_facts, v.on(engine)) for v in selected_variants]


@pytest.fixture
def engine_info(request: pytest.FixtureRequest, fleet: Fleet) -> dict[str, Any]:
    """The ``docker info`` (kernel, OS, runtimes) of the check's variant's engine (the default one without)."""
    variant = _variant_param(request)
    name = engine_of(request.config, variant).name if variant else fleet.engines[0].name
    state = fleet.states()[name]
    if state.lost:
        raise FactMissing(f"engine {name} lost: {state.lost}", cause=lost_cause(name), fault="host")
    return dict(state.info)


def _variant_param(request: pytest.FixtureRequest) -> Variant | None:
    return variant_of(request.node) if isinstance(request.node, pytest.Item) else None


@pytest.fixture
def host(variant: Variant, facts: ImageFacts, pytestconfig: pytest.Config) -> Any:
    """A testinfra ``Host`` on ``variant``'s keep-alive container (the one the probe ran in), on
    the variant's engine (testinfra runs ``docker exec``; ``docker --host URL exec`` for another engine)."""
    import testinfra
    import testinfra.host

    if facts.container_id is None:
        raise facts.missing(f"no running container: {facts.error or facts.probe_error}")
    engine = engine_of(pytestconfig, variant)
    if engine.url == daemon_url():
        return testinfra.get_host(f"docker://{facts.container_id}")
    return testinfra.host.Host(_engine_backend(engine, facts.container_id))


def _engine_backend(engine: Engine, container_id: str) -> Any:
    """testinfra's docker backend with the engine's ``--host`` (and TLS files) on every ``docker exec``."""
    from testinfra.backend.docker import DockerBackend

    flags = ["--host", engine.url]
    if engine.tls():
        flags += ["--tlsverify"] if engine.tls_verify else ["--tls"]
        for flag, path in (
            ("--tlscacert", engine.tls_ca),
            ("--tlscert", engine.tls_cert),
            ("--tlskey", engine.tls_key),
        ):
            if path:
                flags += [flag, path]

    class EngineDockerBackend(DockerBackend):  # type: ignore[misc]  # testinfra is untyped
        def run(self, command: str, *args: str, **kwargs: Any) -> Any:
            cmd = self.get_command(command, *args)
            argv = ["docker", *flags, "exec", self.name, "/bin/sh", "-c"]
            out = self.run_local(" ".join(["%s"] * len(argv)) + " %s", *argv, cmd)
            out.command = self.encode(cmd)
            return out

    return EngineDockerBackend(container_id)
