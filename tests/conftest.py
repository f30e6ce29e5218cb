"""Fixtures of the suite's own tests: the real engine, images built for a test, inner runs.

Tests that need the engine skip with a reason when there is none, except in CI
(``CI=true``), where a missing engine is a failure: CI must not go green on
skipped integration tests.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import tarfile
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from paddle_verify.engine import LABEL_SESSION, LABEL_SUITE, SUITE, DaemonUnreachable, connect, leftovers

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "variants" / "reference.toml"
REF_REPO = "paddle-verify/paddlepaddle"
REF_TAG = "3.3.1"
TEST_SESSION = f"selftest-{uuid.uuid4().hex[:8]}"


def reference_image(variant: str) -> str:
    return f"{REF_REPO}:{REF_TAG}-{variant}"


@pytest.fixture(scope="session")
def docker_client() -> Generator[docker.DockerClient, None, None]:
    try:
        client = connect()
    except DaemonUnreachable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{exc} (CI must run the integration tests: start the engine first)")
        pytest.skip(str(exc))
    yield client
    client.close()


@pytest.fixture(scope="session")
def reference_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """The locally built reference images (``make images``), by variant."""
    refs = {v: reference_image(v) for v in ("cpu", "cpu-devel", "cpu-demo")}
    missing = []
    for ref in refs.values():
        try:
            docker_client.images.get(ref)
        except docker.errors.ImageNotFound:
            missing.append(ref)
    if missing:
        message = f"reference images missing: {missing}; run `make images`"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return refs


ImageFactory = Callable[[str, str], str]


@pytest.fixture(scope="session")
def build_image(docker_client: docker.DockerClient) -> Generator[ImageFactory, None, None]:
    """Build a test image from Dockerfile text (and files of tests/doubles); removed at the end."""
    built: list[str] = []

    def build(name: str, dockerfile: str) -> str:
        tag = f"paddle-verify-test/{name}:{TEST_SESSION}"
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            data = dockerfile.encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(str(ROOT / "tests" / "doubles"), arcname="doubles")
        context.seek(0)
        built.append(tag)  # registered before the build: a half-built tag is removed too
        try:
            docker_client.images.build(
                fileobj=context,
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                labels={LABEL_SUITE: SUITE, LABEL_SESSION: TEST_SESSION},
            )
        except docker.errors.BuildError as exc:
            log = "".join(str(chunk.get("stream", "")) for chunk in exc.build_log)
            pytest.fail(f"building test image {name} failed: {exc}\n{log[-2000:]}")
        return tag

    yield build
    for tag in reversed(built):
        with contextlib.suppress(docker.errors.ImageNotFound):
            docker_client.images.remove(tag, force=True)


@dataclass
class InnerRun:
    """A run of ``checks/`` in a subprocess, and the summary.json it wrote."""

    ret: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None
    path: Path

    def outcomes(self) -> dict[str, str]:
        """``{nodeid-without-file: outcome}`` from summary.json."""
        assert self.summary is not None, f"no summary.json written:\n{self.stdout[-3000:]}\n{self.stderr[-2000:]}"
        return {r["nodeid"].split("::", 1)[1]: r["outcome"] for r in self.summary["results"]}

    def messages(self) -> dict[str, str]:
        assert self.summary is not None
        return {r["nodeid"].split("::", 1)[1]: r["message"] for r in self.summary["results"]}

    def failed(self) -> set[str]:
        return {k for k, v in self.outcomes().items() if v in ("failed", "error")}

    def leftovers(self, client: docker.DockerClient) -> list[str]:
        """What the inner run's session left on the engine (other sessions are not looked at)."""
        assert self.summary is not None
        return leftovers(client, self.summary["notes"]["session"])


@pytest.fixture
def run_checks(pytester: pytest.Pytester) -> Callable[..., InnerRun]:
    def run(*args: str, timeout: float = 600) -> InnerRun:
        result = pytester.runpytest_subprocess(str(ROOT / "checks"), "-p", "no:cacheprovider", *args, timeout=timeout)
        summary_file = pytester.path / "reports" / "summary.json"
        summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
        return InnerRun(
            ret=int(result.ret),
            stdout=result.stdout.str(),
            stderr=result.stderr.str(),
            summary=summary,
            path=pytester.path,
        )

    return run


def labelled_containers(client: docker.DockerClient) -> list[str]:
    """Every container carrying the suite's label (any session)."""
    return [c.name or "" for c in client.containers.list(all=True, filters={"label": f"{LABEL_SUITE}={SUITE}"})]
