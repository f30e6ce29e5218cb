"""The plugin as a team that builds FROM paddle uses it: installed into its own virtualenv with
``pip install``, a manifest and a check file of its own in a directory outside this checkout,
the check written with testinfra's ``host`` and the suite's ``variant``; and a benchmark file of
its own, written with the suite's benchmark fixtures (``against_results``, ``replay``, ``gate``)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import ROOT, ImageFactory, InnerRun, prerequisite, run_suite

THEIR_MANIFEST = """
[suite]
name = "ours"
image = "ours/paddle:{{tag}}-{{variant}}"
default_tag = "1.0"

[contract.runtime]
packages = ["paddle"]
env = {{ PADDLE_NO_STAT = "1" }}

[variants.cpu]
flavour = "cpu"
role = "runtime"
image = "{image}"
"""

THEIR_CHECK = '''
"""Our image keeps paddle's launcher usable, checked through testinfra."""


def test_launcher_is_executable(host, variant):
    launcher = host.file("/usr/local/bin/paddle")
    assert launcher.exists, f"{variant.name}: no /usr/local/bin/paddle"
    assert launcher.mode & 0o111, f"{variant.name}: /usr/local/bin/paddle is not executable (mode {launcher.mode:o})"


def test_libgomp_is_installed(host, variant):
    assert host.package("libgomp1").is_installed, f"{variant.name}: libgomp1 is not installed"
'''


THEIR_BENCHMARK = '''
"""Our image is no slower than the one it replaces, on the interpreter loop."""

import pytest


@pytest.mark.parametrize("measure", ["interp"])
def test_our_image_against_the_last(benchmark, variant, measure, against_results, replay):
    comp = against_results(variant)[measure]
    assert comp.error is None, f"{variant.name}: {measure}: {comp.error}"
    replay(benchmark, comp.b, comp.group, {"image": comp.context["new"]})


@pytest.mark.parametrize("measure", ["interp"])
def test_ours_no_slower(variant, measure, against_results, gate):
    gate(variant, against_results(variant)[measure])
'''
BENCH_OPTIONS = (
    "--threshold",
    "--bench-rounds",
    "--bench-cpus",
    "--rootfs-cache",
    "--against",
    "--calibrate",
    "--calibration",
)
BENCH_FIXTURES = (
    "cpu_results",
    "against_results",
    "gpu_results",
    "net_results",
    "calibration_results",
    "replay",
    "gate",
)


@pytest.fixture(scope="module")
def their_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtualenv with this checkout installed (not editable) and nothing else of ours."""
    env = tmp_path_factory.mktemp("their-venv")
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    # The package's own files only (nothing else of the checkout is needed, and the build
    # writes nothing into the checkout).
    source = tmp_path_factory.mktemp("source")
    shutil.copytree(ROOT / "paddle_verify", source / "paddle_verify", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    proc = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(source)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    prerequisite(proc.returncode == 0, f"pip install of this checkout failed (the index?): {proc.stderr[-1500:]}")
    return python


def run_theirs(python: Path, tmp_path: Path, image: str) -> InnerRun:
    repo = tmp_path / "their-repo"
    repo.mkdir()
    (repo / "ours.toml").write_text(THEIR_MANIFEST.format(image=image))
    (repo / "test_ours.py").write_text(THEIR_CHECK)
    return run_suite(repo, "--manifest", "ours.toml", "--variant", "cpu", target=None, python=python, timeout=300)


def test_their_check_passes_on_a_good_image(
    their_python: Path, reference_images: dict[str, str], tmp_path: Path
) -> None:
    assert not str(tmp_path).startswith(str(ROOT)), "the user's repository must be outside this checkout"
    proc = run_theirs(their_python, tmp_path, reference_images["cpu"])
    assert proc.ret == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "2 passed" in proc.stdout, proc.stdout[-2000:]
    assert "test_launcher_is_executable[cpu]" in (tmp_path / "their-repo" / "reports" / "junit.xml").read_text()
    # the installed plugin, not this checkout, ran the checks
    where = subprocess.run(
        [str(their_python), "-c", "import paddle_verify; print(paddle_verify.__file__)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert str(ROOT) not in where, where


def test_their_check_fails_on_a_broken_image_naming_the_variant(
    their_python: Path, reference_images: dict[str, str], build_image: ImageFactory, tmp_path: Path
) -> None:
    broken = build_image(
        "theirs-launcher-not-executable", f"FROM {reference_images['cpu']}\nRUN chmod a-x /usr/local/bin/paddle\n"
    )
    proc = run_theirs(their_python, tmp_path, broken)
    assert proc.ret == 1, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "1 failed, 1 passed" in proc.stdout, proc.stdout[-2000:]
    assert "cpu: /usr/local/bin/paddle is not executable (mode 644)" in proc.stdout, proc.stdout[-3000:]


def test_testinfra_options_do_not_crowd_help() -> None:
    """testinfra's plugin is not loaded: its options are absent (or hidden) from --help."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    assert "--variant" in proc.stdout
    for option in ("--ssh-config", "--hosts", "--connection", "--sudo-user"):
        assert option not in proc.stdout, f"testinfra's {option} is still in --help"


def test_their_help_shows_the_benchmark_options_and_fixtures(their_python: Path, tmp_path: Path) -> None:
    """Installed, not run from this checkout: the benchmarks' options and the fixtures behind them."""
    for what, expected in (("--help", BENCH_OPTIONS), ("--fixtures", BENCH_FIXTURES)):
        proc = subprocess.run(
            [str(their_python), "-m", "pytest", "-p", "no:cacheprovider", what],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        missing = [name for name in expected if name not in proc.stdout]
        assert not missing, f"pytest {what} of the installed plugin lacks {missing}: {proc.stdout[-3000:]}"


def test_their_benchmark_runs_with_the_suite_fixtures(
    their_python: Path, reference_images: dict[str, str], tmp_path: Path
) -> None:
    """Their own benchmark file (the cpu image against itself, one workload, ten pairs: about 15 s):
    the comparison is measured, its rounds replayed into pytest-benchmark, its gate passes (or, on a
    noisy machine, says UNSTABLE; never fails an image against itself)."""
    repo = tmp_path / "their-repo"
    repo.mkdir()
    image = reference_images["cpu"]
    (repo / "ours.toml").write_text(THEIR_MANIFEST.format(image=image))
    (repo / "test_our_speed.py").write_text(THEIR_BENCHMARK)
    args = ("--manifest", "ours.toml", "--variant", "cpu", "--against", f"cpu={image}", "--bench-rounds", "10")
    run = run_suite(repo, *args, "--benchmark-json=bench.json", target=None, python=their_python, timeout=300)
    assert run.outcomes()["test_our_image_against_the_last[cpu-interp]"] == "passed", run.stdout[-3000:]
    gate = run.outcomes()["test_ours_no_slower[cpu-interp]"]
    assert gate in ("passed", "skipped"), run.stdout[-3000:]
    if gate == "skipped":
        assert "UNSTABLE measurement" in run.messages()["test_ours_no_slower[cpu-interp]"], run.stdout[-3000:]
    assert run.bench is not None, run.stdout[-2000:]
    (comp,) = run.bench["comparisons"]
    (row,) = json.loads((repo / "bench.json").read_text())["benchmarks"]
    replayed = {k: row["stats"][k] for k in ("rounds", "min", "max")}
    # replayed by a clock that adds them up: equal to the last bits of a float sum
    expected = {"rounds": len(comp["b"]), "min": min(comp["b"]), "max": max(comp["b"])}
    assert replayed == pytest.approx(expected, rel=1e-9), (replayed, comp["b"])
