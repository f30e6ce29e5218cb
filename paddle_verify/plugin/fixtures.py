"""The fixtures that hand out the image facts, each read from the variant's engine's column.

``image_facts`` starts the probe of every selected variant on every engine (``Run.start_all``) and
puts what was found in the reports; ``facts``, ``all_facts``, ``facts_on_every_engine`` and
``engine_info`` read a column (``columns``, opened by ``engines.py``, the one owner of the
sessions); a lost engine's column raises its one failure. ``host`` is a testinfra host on the
variant's keep-alive container: the extension API for a user's own checks.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

import pytest

from ..engine import Engine, daemon_url
from ..facts import ImageFacts, ImageSettings, Kind, snapshot
from ..facts import probe as image_probe
from ..manifest import Variant
from ..report import sbom
from .fleet import Fleet
from .run import run_of, variant_of


@pytest.fixture(scope="session")
def selected_variants(pytestconfig: pytest.Config) -> list[Variant]:
    """Every variant this run checks, in manifest order."""
    return run_of(pytestconfig).variants.copy()


@pytest.fixture(scope="session")
def image_facts(
    columns: Fleet,
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
    kind = Kind("image", lambda v: image_probe.gather(columns.of(v).session, v, settings))
    run = run_of(pytestconfig)
    if not run.worker:  # an xdist worker gathers only the variants it is given
        run.start_all(kind, selected_variants)
    yield kind
    finished = [f for c in columns.opened() for f in c.gatherer.finished(kind).values()]
    recorder = run.recorder
    recorder.note("variants", {f.variant.id: _variant_note(f, columns.engines[0].name) for f in finished})
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
def facts(variant: Variant, columns: Fleet, image_facts: Kind[ImageFacts]) -> ImageFacts:
    """What the suite learned about ``variant``'s image on its engine (gathered once per session)."""
    return columns.of(variant).gatherer.get(image_facts, variant)


@pytest.fixture
def facts_on_every_engine(variant: Variant, columns: Fleet, image_facts: Kind[ImageFacts]) -> list[ImageFacts]:
    """The image facts of ``variant`` on every engine that has a session (a lost one fails its own column)."""
    return [c.gatherer.get(image_facts, variant.on(c.name)) for c in columns.opened()]


@pytest.fixture
def all_facts(
    request: pytest.FixtureRequest,
    selected_variants: list[Variant],
    columns: Fleet,
    image_facts: Kind[ImageFacts],
) -> list[ImageFacts]:
    """The image facts of every selected variant on the same engine as the check's variant."""
    variant = _variant_param(request)
    engine = variant.engine if variant else None
    return [columns.of(v.on(engine)).gatherer.get(image_facts, v.on(engine)) for v in selected_variants]


@pytest.fixture
def engine_info(request: pytest.FixtureRequest, fleet: Fleet) -> dict[str, Any]:
    """The ``docker info`` (kernel, OS, runtimes) of the check's variant's engine (the default one without)."""
    variant = _variant_param(request)
    column = fleet.column(variant)
    if column.state.lost:
        raise column.failure(variant)
    return dict(column.state.info)


def _variant_param(request: pytest.FixtureRequest) -> Variant | None:
    return variant_of(request.node) if isinstance(request.node, pytest.Item) else None


@pytest.fixture
def host(variant: Variant, facts: ImageFacts, pytestconfig: pytest.Config) -> Any:
    """A testinfra ``Host`` on ``variant``'s keep-alive container (the one the probe ran in), on
    the variant's engine (testinfra runs ``docker exec``; ``docker --host URL exec`` for another engine)."""
    import testinfra
    import testinfra.host

    if facts.container_id is None:
        met = facts.error_met if facts.error else facts.probe_met
        raise facts.missing(f"no running container: {facts.error or facts.probe_error}", met)
    engine = run_of(pytestconfig).engine_of(variant)
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
