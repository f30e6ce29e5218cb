"""``--reuse-verdicts DIR`` (plugin/reuse.py, report/verdicts.py): the store (key, atomic write, a
corrupt or foreign store ignored), and runs of the reference images: an unchanged variant is
reported passed from the stored run without a container, a rebuilt one runs again, alone."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Generator
from pathlib import Path

import docker
import docker.errors
import pytest

from paddle_verify.report import verdicts

from .conftest import REFERENCE, TEST_SESSION, ImageFactory, InnerRun

PARTS = {"variant": "cpu", "image": {"id": "sha256:1", "diff_ids": ["sha256:a"]}, "options": {"--release": False}}


def _record(key: str, variant: str = "cpu") -> verdicts.Record:
    return verdicts.Record(key, variant, "run-1", "2026-12-03T08:00:00Z", ["checks/t.py::a[cpu]"], {"id": "x"})


def test_any_part_changes_the_key() -> None:
    base = verdicts.key(PARTS)
    assert verdicts.key(json.loads(json.dumps(PARTS))) == base, "the key depends on more than the parts"
    assert verdicts.key({**PARTS, "image": {"id": "sha256:1", "diff_ids": ["sha256:b"]}}) != base
    assert verdicts.key({**PARTS, "options": {"--release": True}}) != base
    assert verdicts.key({**PARTS, "variant": "cpu@b"}) != base


def test_the_code_hash_follows_the_contents(tmp_path: Path) -> None:
    check = tmp_path / "test_x.py"
    check.write_text("def test_x(): pass\n")
    before = verdicts.code_hash([check])
    check.write_text("def test_x(): assert 0\n")
    assert verdicts.code_hash([check]) != before


def test_a_record_covers_only_the_checks_that_passed() -> None:
    record = _record("k")
    assert record.covers(["checks/t.py::a[cpu]"])
    assert not record.covers(["checks/t.py::a[cpu]", "checks/t.py::b[cpu]"])


def test_the_store_round_trips_and_leaves_no_temporary_file(tmp_path: Path) -> None:
    assert verdicts.load(tmp_path) == ({}, None), "no store yet is an empty store, silently"
    verdicts.save(tmp_path, {"k": _record("k")})
    assert verdicts.load(tmp_path) == ({"k": _record("k")}, None)
    assert [p.name for p in tmp_path.iterdir()] == [verdicts.FILE]


MISKEYED = {"k": {"key": "other", "variant": "cpu", "run": "r", "time": "t"}}


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not readable as JSON"),
        ('{"format": "someone-else", "version": 1, "records": {}}', "not a verdict store"),
        (json.dumps({"format": verdicts.FORMAT, "version": 1, "records": {"k": {"key": "k"}}}), "damaged"),
        (json.dumps({"format": verdicts.FORMAT, "version": 1, "records": MISKEYED}), "another key"),
    ],
)
def test_a_corrupt_or_foreign_store_is_ignored_with_its_reason(tmp_path: Path, content: str, reason: str) -> None:
    (tmp_path / verdicts.FILE).write_text(content)
    records, ignored = verdicts.load(tmp_path)
    assert records == {}
    assert ignored is not None
    assert reason in ignored
    assert "ignored" in ignored


def _gate(run_checks: Callable[..., InnerRun], store: Path, *images: str) -> InnerRun:
    args = [a for image in images for a in ("--image", image)]
    return run_checks(
        "--manifest", str(REFERENCE), *args, "--variant", "cpu,cpu-devel", "-k", "kernel",
        "--reuse-verdicts", str(store),
    )  # fmt: skip


def _reused(run: InnerRun) -> dict[str, bool]:
    assert run.summary is not None, run.stdout[-3000:]
    rows = run.summary["results"]
    return {v: all(r["reused"] for r in rows if r["variant"] == v) for v in {r["variant"] for r in rows}}


@pytest.fixture
def release_tag(docker_client: docker.DockerClient) -> Generator[str, None, None]:
    """One tag, as a release has, that a test points at a build and then at its rebuild (build_image
    names each build by its content); removed at the end."""
    tag = f"paddle-verify-test/reuse-cpu-release:{TEST_SESSION}"
    yield tag
    with contextlib.suppress(docker.errors.ImageNotFound):
        docker_client.images.remove(tag)


def test_an_unchanged_variant_is_reused_and_a_rebuilt_one_runs_alone(
    reference_images: dict[str, str],
    build_image: ImageFactory,
    tmp_path_factory: pytest.TempPathFactory,
    docker_client: docker.DockerClient,
    release_tag: str,
) -> None:
    from .conftest import run_suite

    def run(where: str, *images: str) -> InnerRun:
        return _gate(lambda *a: run_suite(tmp_path_factory.mktemp(where), *a), store, *images)

    store = tmp_path_factory.mktemp("store")
    image = release_tag
    built = build_image("reuse-cpu", f"FROM {reference_images['cpu']}\nLABEL org.example.build=1\n")
    docker_client.images.get(built).tag(*image.split(":"))
    first = run("first", f"cpu={image}")
    assert first.ret == 0, first.stdout[-3000:]
    assert _reused(first) == {"cpu": False, "cpu-devel": False}
    second = run("second", f"cpu={image}")
    assert second.ret == 0, second.stdout[-3000:]
    assert _reused(second) == {"cpu": True, "cpu-devel": True}, "an unchanged variant ran again"
    assert second.summary is not None
    assert not second.summary["notes"].get("variants"), "a reused variant's facts were gathered (a container)"
    run_id = first.summary["notes"]["session"] if first.summary else None
    assert f"reused: passed in run {run_id} at " in second.stdout
    assert 'name="reused" value="run ' in (second.path / "reports" / "junit.xml").read_text()
    assert "Reused verdicts" in (second.path / "reports" / "report.html").read_text()
    assert (second.path / "reports" / "sbom" / "cpu.cdx.json").is_file(), "a reused variant lost its SBOM"
    # The same tag, rebuilt with a harmless change: only that variant runs again.
    rebuilt = build_image("reuse-cpu", f"FROM {reference_images['cpu']}\nLABEL org.example.build=2\n")
    docker_client.images.get(rebuilt).tag(*image.split(":"))
    third = run("third", f"cpu={image}")
    assert third.ret == 0, third.stdout[-3000:]
    assert _reused(third) == {"cpu": False, "cpu-devel": True}, "a rebuilt image was reused, or more ran"
    assert third.summary is not None
    assert set(third.summary["notes"]["variants"]) == {"cpu"}
    # A corrupt store: one warning, a full run, and a sound store written in its place.
    (store / verdicts.FILE).write_text("{half a store")
    fourth = run("fourth", f"cpu={image}")
    assert fourth.ret == 0, fourth.stdout[-3000:]
    assert fourth.stdout.count("WARNING: --reuse-verdicts:") == 1, fourth.stdout[-3000:]
    assert _reused(fourth) == {"cpu": False, "cpu-devel": False}
    assert verdicts.load(store)[1] is None, "the corrupt store was not replaced"


def test_a_failing_variant_is_never_stored(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    broken = build_image("reuse-no-paddle", f"FROM {reference_images['cpu']}\nRUN rm /usr/local/bin/paddle\n")
    store = tmp_path / "store"
    args = ("--manifest", str(REFERENCE), "--image", f"cpu={broken}", "-k", "launcher", "-m", "not ssh")
    run = run_checks(*args, "--reuse-verdicts", str(store))
    assert run.ret == 1, run.stdout[-3000:]
    assert not store.exists() or not verdicts.load(store)[0], "a failed variant's verdict was stored"
