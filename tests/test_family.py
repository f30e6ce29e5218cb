"""Today's published family, the shipped ``paddlepaddle`` manifest: it collects its variants by name,
and each kind of variant is checked on an image built here that stands for it: the 3.3.1 cpu
reference as ``cpu``, the paddle-gpu 2.6.2 / CUDA 11.8 reference as ``gpu-cuda11.8-cudnn8.9`` and,
wrongly, as ``gpu-cuda12.6-cudnn9.5``.

The references are not that family's release, and the checks say so, exactly: they run paddle
3.3.1 and 2.6.2 (selected with ``--tag``) on Python 3.11 where the family declares 3.10, and the
gpu reference carries NVIDIA's cuDNN 8.6 wheel where the family's cuda11.8 image carries 8.9.
Those checks fail, each naming both versions; every other check passes (the GPU-device checks
are not run on this host, ``--allow-no-gpu``). Nothing in the manifest is loosened for the test.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import cast

import pytest

from checks import test_carries as carries_checks
from paddle_verify import gpu
from paddle_verify.facts import ImageFacts
from paddle_verify.facts.schema import Probe
from paddle_verify.manifest import load
from paddle_verify.manifest.shipped import shipped

from .conftest import ImageFactory, InnerRun
from .defects import Defect
from .test_broken_images import NOT_SSH, assert_exactly
from .test_gpu import AS_ROOT, fake_host

FAMILY = load(shipped()["paddlepaddle"])
CPU, CU118, CU126, DEV = "cpu", "gpu-cuda11.8-cudnn8.9", "gpu-cuda12.6-cudnn9.5", "latest-dev"
# latest-dev stands in: the cpu devel reference without its paddle (a build image promises none).
NO_PADDLE = "RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip uninstall -q -y paddlepaddle"
# The probe's deadlines on a shared, busy host (an `import paddle` of 2.4 s took 46 s here): a bound, not a verdict.
SLOW_HOST = ("--exec-timeout", "240")
PYTHON = {"test_python_as_declared[{v}]": "the image's python3 is Python 3.11.2, the variant declares Python 3.10"}


def expect(variant: str, fails: dict[str, str]) -> Defect:
    """What the reference image checked as ``variant`` of the family fails, with the words of each."""
    return Defect(f"reference as {variant}", variant, "runtime", "", {**PYTHON, **fails})


def test_the_family_collects_its_variants(run_checks: Callable[..., InnerRun]) -> None:
    run = run_checks("--manifest", "paddlepaddle", "--collect-only", "-q", "-m", "not ssh")
    assert run.ret == 0, run.stdout[-2000:] + run.stderr[-2000:]
    releases = [CPU, CU118, CU126, "gpu-cuda12.9-cudnn9.9", "gpu-cuda13.0-cudnn9.13"]
    assert list(FAMILY.variants) == [*releases, DEV, "cuda118-dev", "cuda126-dev", "cuda129-dev"]
    for name in FAMILY.variants:
        assert f"test_run_it_gives_a_shell[{name}]" in run.stdout, f"{name} not collected:\n{run.stdout[-2000:]}"
    for name in releases:
        assert f"test_run_check_says_paddle_works[{name}]" in run.stdout
    assert "test_paddle_built_with_the_declared_cuda[cpu]" not in run.stdout  # a cpu variant carries no CUDA
    assert "test_tool_runs[cuda126-dev-cmake]" in run.stdout
    assert "test_image_carries_the_declared_cuda[cuda126-dev]" in run.stdout
    assert "test_package_imports[cuda126-dev-paddle]" not in run.stdout  # a build image: paddle not promised
    helped = run_checks("--help")
    assert "a shipped one by name (paddledev, paddlepaddle)" in " ".join(helped.stdout.split()), helped.stdout[-3000:]
    bad = run_checks("--manifest", "paddlepadle", "--collect-only")
    assert bad.ret == 4, bad.stderr[-2000:]
    assert "--manifest paddlepadle: neither a shipped manifest (paddledev, paddlepaddle) nor a file" in bad.stderr


def test_cpu_reference_as_the_family_cpu_variant(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun]
) -> None:
    """The cpu reference as ``cpu``, and beside it a build image without paddle as ``latest-dev``."""
    dev = build_image("no-paddle-dev", f"FROM {reference_images['cpu-devel']}\n{NO_PADDLE}\n")
    run = run_checks(
        "--manifest", "paddlepaddle", "--image", f"cpu={reference_images['cpu']}", "--image", f"{DEV}={dev}",
        "--tag", "3.3.1", *SLOW_HOST, *NOT_SSH,
    )  # fmt: skip
    assert run.ret == 1, run.stdout[-3000:]
    assert_exactly(run, CPU, expect(CPU, {}))
    assert run.outcomes()["test_run_check_says_paddle_works[cpu]"] == "passed"
    assert_exactly(run, DEV, Defect("a build image as latest-dev", DEV, "devel", "", {}))
    assert run.outcomes()[f"test_tool_runs[{DEV}-cmake]"] == "passed"


def test_gpu_reference_as_the_family_gpu_variants(
    gpu_reference_images: dict[str, str], run_checks: Callable[..., InnerRun]
) -> None:
    ref = gpu_reference_images["gpu"]
    run = run_checks(
        "--manifest", "paddlepaddle", "--image", f"{CU118}={ref}", "--image", f"{CU126}={ref}", "--tag", "2.6.2",
        "--allow-no-gpu", *SLOW_HOST, *NOT_SSH,
    )  # fmt: skip
    assert run.ret == 1, run.stdout[-3000:]
    assert_exactly(
        run,
        CU118,
        expect(
            CU118,
            {
                "test_paddle_built_with_the_declared_cuda[{v}]": "paddle was built with cuDNN 8.6.0, the variant declares cuDNN 8.9",
                "test_image_carries_the_declared_cuda[{v}]": "the image ships cuDNN 8.6, the variant declares cuDNN 8.9",
            },
        ),
    )
    assert_exactly(
        run,
        CU126,
        expect(
            CU126,
            {
                "test_paddle_built_with_the_declared_cuda[{v}]": "paddle was built with CUDA 11.8, the variant declares CUDA 12.6",
                "test_image_carries_the_declared_cuda[{v}]": "the image's CUDA runtime is CUDA unknown (libcudart.so.12: ",
                "test_paddle_built_with_the_image_cuda[{v}]": "no CUDA runtime version from libcudart.so.12",
            },
        ),
    )


@AS_ROOT
@pytest.mark.parametrize(
    ("driver", "fails"),
    [
        ("520.61.05", "declares CUDA 12.6: the image's CUDA runtime is 12.6, the host's driver 520.61.05 is older "
         "than 525.60.13, the minimum for CUDA 12.x"),
        ("535.104.05", None),  # NVIDIA's rule: any 12.x runtime on a driver >= 525.60.13
    ],
)  # fmt: skip
def test_declared_cuda_needs_its_driver(tmp_path: Path, driver: str, fails: str | None) -> None:
    """test_host_driver_runs_the_declared_cuda on the fake NVIDIA host tree (a TEST DOUBLE), an old and a new driver."""
    variant = FAMILY.variants[CU126]
    host = gpu.discover(fake_host(tmp_path, gpus=1, driver=driver))
    check = gpu.GpuCheck(variant, host, "seed", lambda: pytest.fail("the driver fit needs no container"))
    if fails is None:
        carries_checks.test_host_driver_runs_the_declared_cuda(variant, check)
        return
    with pytest.raises(AssertionError) as raised:
        carries_checks.test_host_driver_runs_the_declared_cuda(variant, check)
    assert str(raised.value).splitlines()[0] == f"{CU126}: {fails}"


@pytest.mark.parametrize(
    ("python", "cuda", "cudnn", "runtime", "library", "fails"),
    [
        ("3.10.12", "12.6", "9.5.1", 12060, 90501, None),  # what the cuda12.6 image carries: cuDNN 9's numbering
        ("3.12.3", "12.6", "9.5.1", 12060, 90501, "the image's python3 is Python 3.12.3, the variant declares Python 3.10"),
        ("3.10.12", "12.6", "9.3.0", 12060, 90501, "paddle was built with cuDNN 9.3.0, the variant declares cuDNN 9.5"),
        ("3.10.12", "12.6", "9.5.1", 12040, 90501, "the image's CUDA runtime is CUDA 12.4, the variant declares CUDA 12.6"),
        ("3.10.12", "12.6", "9.5.1", 12060, 91300, "the image ships cuDNN 9.13, the variant declares cuDNN 9.5"),
    ],
)  # fmt: skip
def test_declared_versions_on_doubles(
    python: str, cuda: str, cudnn: str, runtime: int, library: int, fails: str | None
) -> None:
    """TEST DOUBLES of the probe's JSON for the cuda12.6 variant: what it carries, and each one thing off."""
    variant = FAMILY.variants[CU126]
    ran = {"argv": [], "rc": 0, "stdout": "", "stderr": "", "error": None, "timed_out": False, "seconds": 0.1}
    imports = {"packages": {}, "paddle": {"cuda": cuda, "cudnn": cudnn}, "py_paddle_init": None, "computation": None}
    found = {"libraries": {}, "runtime": "libcudart.so.12", "runtime_version": runtime, "cudnn_version": library}
    probe = {"python": {"version": python, "executable": "/usr/bin/python3"}, "oom_kills": 0}
    probe |= {"imports": {**ran, "data": imports}, "cuda": {**ran, "data": found, "runtime_version_from": "double"}}
    facts = ImageFacts(variant, probe_raw=cast(Probe, probe))
    checks = (
        carries_checks.test_python_as_declared,
        carries_checks.test_paddle_built_with_the_declared_cuda,
        carries_checks.test_image_carries_the_declared_cuda,
    )
    failed = []
    for check in checks:
        try:
            check(variant, facts)
        except AssertionError as exc:
            failed.append(str(exc).splitlines()[0])
    assert failed == ([] if fails is None else [f"{CU126}: {fails}"])
