"""Every check can fail: broken images, one defect each, fail exactly the checks they should.

The images are built from the reference images; one inner run of ``checks/``
checks all of them at once, each as a variant named after its defect, through a
manifest made for the test from ``variants/reference.toml`` (SSH checks aside). One more run uses
``--image`` to check a broken image as the ``cpu`` variant, as a release
engineer would.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import REFERENCE, REFERENCE_GPU, REFERENCE_PY27, ImageFactory, InnerRun, run_suite
from .defects import CONTRACT_PACKAGE_MISSING, DEFECTS, GPU_DEFECTS, PY_PADDLE_DOUBLE, PY_PADDLE_INIT_FAILS, Defect
from .defects_py27 import PY27_DEFECTS

# The SSH checks have broken images of their own (test_ssh.py); building an SSH
# image on each of these would only repeat that `paddle version` is broken.
NOT_SSH = ("-m", "not ssh")
# The devel and demo images among the broken ones (about ten) each build a paddle custom operator
# (about 14 s of one core: docs/checks-devel.md), all at once with the others' probes: a deadline per
# command (a build's phase: three times it) that a 2-core host meets for all of them, not the 60 s
# meant for one image's probe; the inner run's own limit is 600 s.
BUILDS_DEADLINE = ("--exec-timeout", "120")


def manifest_for(
    path: Path, images: dict[str, tuple[Defect, str]], *, extra_packages: str = "", contract: Path = REFERENCE
) -> Path:
    """The reference contract, with one variant per broken image (of the defect's flavour)."""
    text = contract.read_text()
    text = text[: text.index("[variants.")]
    if extra_packages:
        text = text.replace('packages = ["paddle",', f'packages = [{extra_packages}, "paddle",', 1)
        text = text.replace("py_paddle_init = false", "py_paddle_init = true")
    for name, (defect, ref) in images.items():
        flavour = "gpu" if defect.base.startswith("gpu") else "cpu"
        text += f'\n[variants.{name}]\nflavour = "{flavour}"\nrole = "{defect.role}"\nimage = "{ref}"\n'
    path.write_text(text)
    return path


def assert_exactly(run: InnerRun, variant: str, defect: Defect) -> None:
    outcomes = {k: v for k, v in run.outcomes().items() if k.endswith(f"[{variant}]") or f"[{variant}-" in k}
    assert outcomes, f"no check ran for {variant}:\n{run.stdout[-3000:]}"
    failed = {k for k, v in outcomes.items() if v in ("failed", "error")}
    expected = defect.expected(variant)
    assert failed == set(expected), (
        f"{defect.name}: unexpected failures {sorted(failed - set(expected))}, "
        f"missing failures {sorted(set(expected) - failed)}"
    )
    messages = run.messages()
    for check, words in expected.items():
        assert messages[check].startswith(f"{variant}:") or f"{variant}:" in messages[check], (
            f"{check}: message does not name the variant: {messages[check]!r}"
        )
        assert words in messages[check], f"{check}: message lacks {words!r}: {messages[check]!r}"
    others = {k: v for k, v in outcomes.items() if k not in expected}
    # With one variant selected there is no other variant to compare paddle with.
    alone = {k for k, v in others.items() if k.startswith("test_same_paddle_as") and v == "skipped"}
    # On a host without a GPU (--allow-no-gpu) a gpu variant's GPU-device checks are not run, saying why.
    alone |= {k for k, v in others.items() if v == "skipped" and "no NVIDIA GPU on this host" in messages[k]}
    assert all(v == "passed" for k, v in others.items() if k not in alone), (
        f"{defect.name}: not all other checks passed: {others}"
    )


@pytest.fixture(scope="module")
def broken_images(reference_images: dict[str, str], build_image: ImageFactory) -> dict[str, tuple[Defect, str]]:
    return {d.name: (d, build_image(d.name, f"FROM {reference_images[d.base]}\n{d.dockerfile}\n")) for d in DEFECTS}


@pytest.fixture(scope="module")
def matrix_run(
    broken_images: dict[str, tuple[Defect, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> InnerRun:
    manifest = manifest_for(tmp_path_factory.mktemp("manifest") / "broken.toml", broken_images)
    return run_suite(
        tmp_path_factory.mktemp("inner"), "--manifest", str(manifest), "--variant", "all", *NOT_SSH, *BUILDS_DEADLINE
    )


@pytest.mark.parametrize("defect", DEFECTS, ids=[d.name for d in DEFECTS])
def test_defect_fails_exactly_its_checks(matrix_run: InnerRun, defect: Defect) -> None:
    assert matrix_run.ret == 1, f"the run of broken images did not fail:\n{matrix_run.stdout[-2000:]}"
    assert_exactly(matrix_run, defect.name, defect)


def test_contract_package_missing(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    double = build_image("py-paddle-double", f"FROM {reference_images['cpu']}\n{PY_PADDLE_DOUBLE}\n")
    good = Defect("py-paddle-double", "cpu", "runtime", "")
    images = {"py-paddle-double": (good, double)}
    for defect in (CONTRACT_PACKAGE_MISSING, PY_PADDLE_INIT_FAILS):
        images[defect.name] = (defect, build_image(defect.name, f"FROM {double}\n{defect.dockerfile}\n"))
    manifest = manifest_for(tmp_path / "py_paddle.toml", images, extra_packages='"py_paddle"')
    run = run_checks("--manifest", str(manifest), "--variant", "all", *NOT_SSH)
    assert run.ret == 1, run.stdout[-2000:]
    for name, (defect, _ref) in images.items():
        assert_exactly(run, name, defect)


def test_gpu_defects(
    gpu_reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    """Broken gpu images, checked as gpu variants on this host (--allow-no-gpu: without a GPU their
    GPU-device checks are not run; every image-level check is)."""
    images = {
        d.name: (d, build_image(d.name, f"FROM {gpu_reference_images[d.base]}\n{d.dockerfile}\n")) for d in GPU_DEFECTS
    }
    manifest = manifest_for(tmp_path / "gpu.toml", images, contract=REFERENCE_GPU)
    run = run_checks("--manifest", str(manifest), "--variant", "all", "--allow-no-gpu", *NOT_SSH, *BUILDS_DEADLINE)
    assert run.ret == 1, run.stdout[-2000:]
    for name, (defect, _ref) in images.items():
        assert_exactly(run, name, defect)


def test_py27_defects(
    py27_reference_images: dict[str, str],
    build_image: ImageFactory,
    run_checks: Callable[..., InnerRun],
    tmp_path: Path,
) -> None:
    """Broken paddle 1.8.5 / Python 2.7 images, checked with the Python 2.7 era's contract."""
    images = {
        d.name: (d, build_image(d.name, f"FROM {py27_reference_images[d.base]}\n{d.dockerfile}\n"))
        for d in PY27_DEFECTS
    }
    manifest = manifest_for(tmp_path / "py27.toml", images, contract=REFERENCE_PY27)
    run = run_checks("--manifest", str(manifest), "--variant", "all", *NOT_SSH)
    assert run.ret == 1, run.stdout[-2000:]
    for name, (defect, _ref) in images.items():
        assert_exactly(run, name, defect)


def test_broken_image_checked_as_a_variant_with_image_option(
    broken_images: dict[str, tuple[Defect, str]], run_checks: Callable[..., InnerRun]
) -> None:
    defect, ref = broken_images["launcher-missing"]
    run = run_checks("--manifest", str(REFERENCE), "--image", f"cpu={ref}", *NOT_SSH)
    assert run.ret == 1, run.stdout[-2000:]
    assert_exactly(run, "cpu", defect)
    assert ref in run.stdout, "the report header does not show the image checked"
