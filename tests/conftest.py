"""Fixtures of the suite's own tests: the real engine, images built for a test, inner runs.

A test whose prerequisite is missing here (the engine, the images, root, gcc) skips
with the reason, except in CI (``CI=true``, exported by ``.ci/run``), where it fails:
CI must not go green on tests it never ran (:func:`prerequisite`).

Tiers (markers, :data:`TIERS`), applied by :func:`pytest_collection_modifyitems` from the
fixtures a test uses (:data:`TIER_FIXTURES`, through their dependencies) and the helpers it
calls (:data:`TIER_CALLS`), plus the explicit ``disruptive`` mark of tests that stop engines
or send signals, ``soak`` of tests that repeat whole runs and ``measure`` of the benchmark gate's
self-tests (timed workloads, verdicts that want a quiet host); a test with none of them is ``unit``
(no engine, no images: ``make unit``). ``make test`` runs all but the disruptive, soak and measure
tests, ``make test-long`` those (CI runs both).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import docker.errors
import pytest

from paddle_verify.engine import LABEL_SUITE, SUITE, DaemonUnreachable, connect, leftovers
from paddle_verify.manifest import load

ROOT = Path(__file__).resolve().parents[1]
REFERENCE = ROOT / "variants" / "reference.toml"
REFERENCE_GPU = ROOT / "variants" / "reference-gpu.toml"
REFERENCE_PY27 = ROOT / "variants" / "reference-py27.toml"
TEST_SESSION = f"selftest-{uuid.uuid4().hex[:8]}"
IN_CI = os.environ.get("CI") == "true"


TIERS = {
    "unit": "no engine, no images: functions called directly, or pytester in process (make unit)",
    "engine": "needs a Docker engine (docker_client), not the reference images",
    "images": "needs images: the reference images, or images built for the test, or a run of checks/",
    "root": "needs root (device nodes, chroot, network namespaces)",
    "disruptive": "stops engines or sends signals to runs (a dockerd of its own, SIGTERM, SIGKILL)",
    "soak": "repeats whole runs to show what one run cannot (thirty runs in a row, serial against xdist)",
    "measure": "times real workloads and reads the benchmark gate's verdict: wants a quiet host",
}
# The tier each fixture puts its users in (a fixture's users include those of every fixture
# that depends on it: pytest's fixture closure).
TIER_FIXTURES = {
    "docker_client": "engine",
    "reference_images": "images",
    "gpu_reference_images": "images",
    "build_image": "images",
    "run_checks": "images",
    "as_root": "root",
    # A fresh virtualenv with the package pip-installed (test_installed_plugin.py): seconds of pip, not
    # a unit test; with the module's other tests, which run the gate, so that they share the one install.
    "their_python": "images",
}
# The tier of the module helpers a test calls directly (names its code refers to).
TIER_CALLS = {"run_suite": "images"}


def pytest_configure(config: pytest.Config) -> None:
    for name, what in TIERS.items():
        config.addinivalue_line("markers", f"{name}: {what}")


def tiers_of(item: pytest.Item) -> set[str]:
    """The tiers of ``item``: from its fixtures, the helpers its code calls, and its own marks."""
    found = {TIER_FIXTURES[f] for f in getattr(item, "fixturenames", ()) if f in TIER_FIXTURES}
    code = getattr(getattr(item, "function", None), "__code__", None)
    names = set(code.co_names) if code is not None else set()
    found |= {tier for name, tier in TIER_CALLS.items() if name in names}
    found |= {m.name for m in item.iter_markers() if m.name in TIERS and m.name != "unit"}
    if found & {"images", "disruptive", "soak", "measure"}:
        found.add("engine")
    return found or {"unit"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        for tier in sorted(tiers_of(item)):
            if item.get_closest_marker(tier) is None:
                item.add_marker(tier)


def prerequisite(ok: bool, reason: str) -> None:
    """A test that cannot run here skips with the reason, except in CI, where it fails:
    CI must not go green on tests it never ran."""
    if ok:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI must run this test: its set-up is missing)")
    pytest.skip(reason)


@pytest.fixture
def as_root() -> None:
    """For tests that need root (device nodes with os.mknod, chroot): see :func:`prerequisite`."""
    prerequisite(os.geteuid() == 0, "this test needs root (os.mknod, chroot)")


def reference_image(variant: str, manifest: Path = REFERENCE) -> str:
    """The reference image of ``variant``, as the manifest names it (no tag written here)."""
    return load(manifest).variants[variant].image


@pytest.fixture(scope="session")
def docker_client() -> Generator[docker.DockerClient, None, None]:
    try:
        client = connect()
    except DaemonUnreachable as exc:
        prerequisite(False, str(exc))
        raise
    yield client
    client.close()


@pytest.fixture(scope="session")
def reference_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """The locally built cpu reference images (``make images``), by variant."""
    refs = {name: v.image for name, v in load(REFERENCE).variants.items()}
    missing = []
    for ref in refs.values():
        try:
            docker_client.images.get(ref)
        except docker.errors.ImageNotFound:
            missing.append(ref)
    prerequisite(not missing, f"reference images missing: {missing}; run `make images`")
    return refs


@pytest.fixture(scope="session")
def gpu_reference_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """The locally built gpu reference images (``make images``), by variant."""
    refs = {name: v.image for name, v in load(REFERENCE_GPU).variants.items()}
    missing = [ref for ref in refs.values() if not docker_client.images.list(name=ref)]
    prerequisite(not missing, f"gpu reference images missing: {missing}; run `make images`")
    return refs


@pytest.fixture(scope="session")
def py27_reference_images(docker_client: docker.DockerClient) -> dict[str, str]:
    """The locally built Python 2.7 era reference images (``make py27-images``), by variant."""
    refs = {name: v.image for name, v in load(REFERENCE_PY27).variants.items()}
    missing = [ref for ref in refs.values() if not docker_client.images.list(name=ref)]
    prerequisite(not missing, f"Python 2.7 reference images missing: {missing}; run `make py27-images`")
    return refs


ImageFactory = Callable[[str, str], str]


# Test images are kept between runs under a tag of their content (TEST_IMAGE_KEY): the Dockerfile,
# tests/doubles/ and the image ID of each FROM. A run whose test image is unchanged uses it as is
# (the broken and benign images' twenty-odd builds took 100 s of each `make test`); a changed one is
# built, and the tags of that name with another key (but none this run made) are removed.
# `make clean-images` removes them all (by the label).
TEST_IMAGE_LABEL = "org.paddle-verify.selftest-image"


def test_image_key(client: docker.DockerClient, dockerfile: str) -> str:
    """What a test image is built from: its Dockerfile, tests/doubles/, and the ID of each FROM."""
    digest = hashlib.sha256(dockerfile.encode())
    for path in sorted((ROOT / "tests" / "doubles").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    for line in dockerfile.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "FROM":
            try:
                digest.update(str(client.images.get(words[1]).id).encode())
            except docker.errors.ImageNotFound:
                digest.update(words[1].encode())  # the build then fails, naming it
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def build_image(docker_client: docker.DockerClient) -> ImageFactory:
    """Build a test image from Dockerfile text (and files of tests/doubles), or find it built by an
    earlier run from the same content (see TEST_IMAGE_LABEL). A test that needs one tag re-pointed
    (a rebuilt release) tags the images itself."""
    made: set[str] = set()

    def build(name: str, dockerfile: str) -> str:
        repository = f"paddle-verify-test/{name}"
        tag = f"{repository}:{test_image_key(docker_client, dockerfile)}"
        made.add(tag)
        if docker_client.images.list(name=tag):
            return tag
        context = io.BytesIO()
        with tarfile.open(fileobj=context, mode="w") as tar:
            data = dockerfile.encode()
            info = tarfile.TarInfo("Dockerfile")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            tar.add(str(ROOT / "tests" / "doubles"), arcname="doubles", filter=_no_pycache)
        context.seek(0)
        try:
            docker_client.images.build(
                fileobj=context,
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                labels={LABEL_SUITE: SUITE, TEST_IMAGE_LABEL: name},
            )
        except docker.errors.BuildError as exc:
            log = "".join(str(chunk.get("stream", "")) for chunk in exc.build_log)
            pytest.fail(f"building test image {name} failed: {exc}\n{log[-2000:]}")
        for old in docker_client.images.list(name=repository):  # the same test image, built from other content
            for ref in old.tags:
                if ref.startswith(f"{repository}:") and ref not in made:
                    with contextlib.suppress(docker.errors.ImageNotFound, docker.errors.APIError):
                        docker_client.images.remove(ref)
        return tag

    return build


def _no_pycache(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in info.name else info


@dataclass
class InnerRun:
    """A run of ``checks/`` in a subprocess, and the summary.json it wrote."""

    ret: int
    stdout: str
    stderr: str
    summary: dict[str, Any] | None
    path: Path
    bench: dict[str, Any] | None = None  # benchmarks.json, when the run wrote one

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


def run_suite(
    cwd: Path,
    *args: str,
    target: Path | None = ROOT / "checks",
    timeout: float = 600,
    env: dict[str, str] | None = None,
    python: Path | str = sys.executable,
) -> InnerRun:
    """The one way a self-test runs the suite: ``PYTHON -m pytest [TARGET] ARGS`` in a subprocess in
    ``cwd`` (the plugin loads through its entry point, as for a user), then its reports."""
    proc = subprocess.run(
        [str(python), "-m", "pytest", *([str(target)] if target else []), "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env={**os.environ, **(env or {})},
    )
    reports = cwd / "reports"
    summary = reports / "summary.json"
    bench = reports / "benchmarks.json"
    return InnerRun(
        ret=proc.returncode,
        stdout=proc.stdout,
        stderr=proc.stderr,
        summary=json.loads(summary.read_text()) if summary.exists() else None,
        path=cwd,
        bench=json.loads(bench.read_text()) if bench.exists() else None,
    )


@pytest.fixture
def run_checks(tmp_path: Path) -> Callable[..., InnerRun]:
    """``run_checks(*args)``: the suite over ``checks/`` in a fresh directory of this test."""
    return lambda *args, timeout=600: run_suite(tmp_path, *args, timeout=timeout)


def labelled_containers(client: docker.DockerClient) -> list[str]:
    """Every container carrying the suite's label (any session)."""
    return [c.name or "" for c in client.containers.list(all=True, filters={"label": f"{LABEL_SUITE}={SUITE}"})]
