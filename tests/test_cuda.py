"""The driver fit: a gpu image's CUDA runtime against the host's driver (NVIDIA's minimum per
CUDA major version), on the fake NVIDIA host tree (a TEST DOUBLE) with an old and a new driver."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, cast

import pytest

from checks import test_cuda as cuda_checks
from paddle_verify import gpu
from paddle_verify.facts import FactMissing, ImageFacts
from paddle_verify.facts.schema import Probe
from paddle_verify.gpu.compat import cuda_version, driver_misfit
from paddle_verify.manifest import load

from .conftest import REFERENCE_GPU
from .test_gpu import AS_ROOT, fake_host

CUDA_11_8 = 11080  # what cudaRuntimeGetVersion answers in the reference gpu image


def test_cuda_versions_and_minimum_drivers() -> None:
    assert cuda_version(CUDA_11_8) == "11.8"
    assert cuda_version(12040) == "12.4"
    assert driver_misfit(CUDA_11_8, "450.80.02") is None
    assert driver_misfit(CUDA_11_8, "535.104.05") is None
    assert driver_misfit(12040, "525.60.13") is None
    assert driver_misfit(12040, "520.61.05") == (
        "the image's CUDA runtime is 12.4, the host's driver 520.61.05 is older than 525.60.13, the minimum for CUDA 12.x"
    )
    assert driver_misfit(13000, "575.51.03") is not None
    assert "no known minimum driver" in (driver_misfit(99000, "999.1") or "")


def image_facts_with_cuda(runtime: int | None) -> ImageFacts:
    """ImageFacts of the gpu variant as the probe gives them for its CUDA child (a TEST DOUBLE of the probe's JSON)."""
    variant = load(REFERENCE_GPU).variants["gpu"]
    cuda: dict[str, Any] = {
        "libraries": {},
        "runtime": "libcudart.so.11.0",
        "runtime_version": runtime,
        "cudnn_version": None,
    }
    child = {"argv": [], "rc": 0, "stdout": "", "stderr": "", "error": None, "timed_out": False, "seconds": 0.1}
    probe = cast(Probe, {"cuda": {**child, "data": cuda}})
    return ImageFacts(variant, probe_raw=probe)


@AS_ROOT
@pytest.mark.parametrize(
    ("driver", "fails"),
    [
        ("440.33.01", "gpu: the image's CUDA runtime is 11.8, the host's driver 440.33.01 is older than 450.80.02, "
         "the minimum for CUDA 11.x"),
        ("535.104.05", None),
    ],
)  # fmt: skip
def test_driver_fit_on_the_fake_host_tree(tmp_path: Path, driver: str, fails: str | None) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=1, driver=driver))
    assert host.driver_version == driver
    facts = image_facts_with_cuda(CUDA_11_8)
    check = gpu.GpuCheck(facts.variant, host, "seed", lambda: cast(Any, None))
    if fails is None:
        cuda_checks.test_host_driver_runs_the_image_cuda(facts.variant, check, facts)
        return
    with pytest.raises(AssertionError) as raised:
        cuda_checks.test_host_driver_runs_the_image_cuda(facts.variant, check, facts)
    assert str(raised.value).splitlines()[0] == fails


def test_no_cuda_facts_is_a_missing_fact() -> None:
    facts = dataclasses.replace(image_facts_with_cuda(None), probe_raw=cast(Probe, {"cuda": None}))
    with pytest.raises(FactMissing, match=r"^gpu: the CUDA probe \(the contract's cuda_libraries\) was not probed"):
        _ = facts.cuda
