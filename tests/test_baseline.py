"""--baseline: the diff since an earlier run's facts.json, and the checks that gate on it.

Two runs: the reference cpu image as the baseline, then an image of the same variant with one
Python package removed, one changed in its major version, ``with_avx`` changed and 20% more
bytes: exactly those checks fail, each naming the package, the line or the sizes; declared
in the manifest's ``[changes]``, the removal passes its check.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import docker
import pytest

from paddle_verify.facts.baseline import diff, major
from paddle_verify.manifest import ManifestError, load

from .conftest import REFERENCE, ImageFactory, InnerRun, run_suite

SITE = "/usr/local/lib/python3.11/dist-packages"
CHANGED = f"""
RUN rm -rf /usr/lib/python3/dist-packages/wheel /usr/lib/python3/dist-packages/wheel-0.38.4.egg-info
RUN sed -i 's/^Version: 3.3.0$/Version: 4.0.0/' {SITE}/opt_einsum-3.3.0.dist-info/METADATA
RUN sed -i 's/with_avx: ON/with_avx: OFF/' /usr/local/bin/paddle
RUN head -c {{ballast}} /dev/zero > /opt/ballast
"""
REMOVED = "test_no_package_removed_since_baseline[cpu-python]"
MAJOR = "test_no_major_version_change_since_baseline[cpu-python]"
BUILD = "test_build_lines_unchanged_since_baseline[cpu]"
SIZE = "test_image_growth_within_limit[cpu]"


@pytest.mark.parametrize(
    ("version", "expected"),
    [("2.4.6", (0, 2)), ("1:9.2.2-1", (1, 9)), ("12.2.0-14+deb12u1", (0, 12)), ("v3", (0, 3)), ("dev", ())],
)
def test_major(version: str, expected: tuple[int, ...]) -> None:
    assert major(version) == expected


def test_diff_of_two_snapshots() -> None:
    before = {
        "python_packages": {"numpy": "1.26.4", "wheel": "0.38.4", "six": "1.16.0"},
        "debian_packages": {"libc6": "2.36-9"},
        "build": {"with_avx": "ON", "with_gpu": "OFF"},
        "size": 1000,
        "timings": {"import_paddle_seconds": 2.0, "container_start_seconds": 0.5},
    }
    now = {
        "python_packages": {"numpy": "2.0.0", "six": "1.17.0", "rich": "13.0"},
        "debian_packages": {"libc6": "2.36-9"},
        "build": {"with_avx": "OFF", "with_gpu": "OFF"},
        "size": 1250,
        "timings": {"import_paddle_seconds": 2.5, "container_start_seconds": 0.5},
    }
    d = diff("cpu", before, now)
    assert d.python is not None
    assert d.python.removed == {"wheel": "0.38.4"}
    assert d.python.added == {"rich": "13.0"}
    assert d.python.major_changes == {"numpy": ("1.26.4", "2.0.0")}  # six 1.16 -> 1.17 is not major
    assert d.build == {"with_avx": ("ON", "OFF")}
    assert d.growth == 25.0
    assert d.line() == (
        "python +1 -1 ~2 (-wheel, numpy 1.26.4 -> 2.0.0, six 1.16.0 -> 1.17.0); debian +0 -0 ~0; "
        "build: with_avx ON -> OFF; size 0 MB -> 0 MB (+25.0%); "
        "import_paddle_seconds 2.00s -> 2.50s; container_start_seconds 0.50s -> 0.50s"
    )


def test_declared_changes_need_a_reason(tmp_path: Path) -> None:
    text = REFERENCE.read_text() + '\n[changes.python]\nwheel = ""\n'
    (tmp_path / "m.toml").write_text(text)
    with pytest.raises(ManifestError, match=r"changes\.python\.wheel: needs a reason"):
        load(tmp_path / "m.toml")


def test_a_bad_baseline_is_a_usage_error(tmp_path: Path, run_checks: Callable[..., InnerRun]) -> None:
    bad = tmp_path / "summary.json"
    bad.write_text('{"results": []}')
    run = run_checks("--manifest", str(REFERENCE), "--baseline", str(bad))
    assert run.ret == 4, run.stderr[-2000:]
    assert "not a facts.json of version 1" in run.stderr


@pytest.fixture(scope="module")
def base_facts(reference_images: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The baseline: a run of the reference cpu image (any check gathers the facts)."""
    where = tmp_path_factory.mktemp("release-n")
    run = run_suite(where, "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "kernel", "-m", "not ssh")
    assert run.ret == 0, run.stdout[-3000:]
    return where / "reports" / "facts.json"


@pytest.fixture(scope="module")
def changed_image(
    reference_images: dict[str, str], build_image: ImageFactory, docker_client: docker.DockerClient
) -> str:
    size = int(docker_client.images.get(reference_images["cpu"]).attrs["Size"])
    ballast = int(size * 0.2) + 10_000_000  # 20% bigger, and some
    return build_image("baseline-changed", f"FROM {reference_images['cpu']}\n" + CHANGED.format(ballast=ballast))


def gate(run_checks: Callable[..., InnerRun], base: Path, image: str, manifest: Path = REFERENCE) -> InnerRun:
    return run_checks("--manifest", str(manifest), "--image", f"cpu={image}", "--baseline", str(base), "-k", "baseline")


def test_release_n_plus_1_fails_exactly_what_changed(
    base_facts: Path, changed_image: str, run_checks: Callable[..., InnerRun]
) -> None:
    run = gate(run_checks, base_facts, changed_image)
    assert run.ret == 1, run.stdout[-3000:]
    assert run.failed() == {REMOVED, MAJOR, BUILD, SIZE}, run.outcomes()
    messages = run.messages()
    assert "cpu: Python package(s) removed since the baseline: wheel 0.38.4" in messages[REMOVED]
    assert "changed their major version since the baseline: opt-einsum 3.3.0 -> 4.0.0" in messages[MAJOR]
    assert "build lines changed since the baseline: with_avx: ON -> OFF" in messages[BUILD]
    assert "cpu: the image grew by 2" in messages[SIZE]
    assert "more than --size-growth 10%" in messages[SIZE]
    assert run.outcomes()["test_no_package_removed_since_baseline[cpu-debian]"] == "passed"
    # the diff is shown whether or not it fails: terminal, summary.json, report.html
    assert "since the baseline" in run.stdout
    assert "python +0 -1 ~1 (-wheel, opt-einsum 3.3.0 -> 4.0.0)" in run.stdout
    assert run.summary is not None
    since = run.summary["notes"]["baseline"]["variants"]["cpu"]
    assert since["python"]["removed"] == {"wheel": "0.38.4"}
    assert since["build"] == {"with_avx": ["ON", "OFF"]}
    assert since["growth_percent"] > 20
    # the SBOM's components too (the baseline run's sbom/cpu.cdx.json against this run's)
    assert since["sbom"]["removed"] == {"pkg:pypi/wheel": "0.38.4"}
    assert since["sbom"]["changed"] == {"pkg:pypi/opt-einsum": ["3.3.0", "4.0.0"]}
    assert "sbom +0 -1 ~1 (-pkg:pypi/wheel, pkg:pypi/opt-einsum 3.3.0 -> 4.0.0)" in run.stdout
    html = (run.path / "reports" / "report.html").read_text()
    assert "Since the baseline" in html
    assert "-pkg:pypi/wheel 0.38.4" in html


def test_a_declared_removal_passes(
    base_facts: Path, changed_image: str, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    manifest = tmp_path / "declared.toml"
    manifest.write_text(REFERENCE.read_text() + '\n[changes.python]\nwheel = "not needed at run time"\n')
    run = gate(run_checks, base_facts, changed_image, manifest)
    assert run.failed() == {MAJOR, BUILD, SIZE}, run.outcomes()
    assert run.outcomes()[REMOVED] == "passed"


def test_without_baseline_no_baseline_check_runs(reference_images: dict[str, str], tmp_path: Path) -> None:
    run = run_suite(tmp_path, "--manifest", str(REFERENCE), "--variant", "cpu", "-k", "baseline or kernel")
    assert run.ret == 0, run.stdout[-2000:]
    assert all("baseline" not in k for k in run.outcomes()), "a baseline check ran without --baseline"
    assert json.loads((tmp_path / "reports" / "summary.json").read_text())["notes"].get("baseline") is None
