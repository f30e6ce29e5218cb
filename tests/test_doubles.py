"""Checks that no image can make fail on the hosts the self-tests run on, made to fail through
TEST DOUBLES of the facts they read: an old host kernel, a container on another kernel, and
on the fake NVIDIA host tree an `nvidia-smi` listing other GPUs, a GPU matmul that differs
from the CPU's, and GPUs without a libcuda to mount. Each calls the real check function."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from checks import test_gpu as gpu_checks
from checks import test_kernel as kernel_checks
from paddle_verify import gpu
from paddle_verify.facts import ImageFacts
from paddle_verify.facts.schema import Probe
from paddle_verify.facts.schema_gpu import GpuProbe
from paddle_verify.manifest import load

from .conftest import REFERENCE
from .test_gpu import AS_ROOT, as_gpu_variant, fake_host, fake_uuid

CPU = load(REFERENCE).variants["cpu"]


def test_host_kernel_below_3_10_fails() -> None:
    """TEST DOUBLE: the engine's `docker info` reporting a 2.6 kernel."""
    kernel_checks.test_host_kernel_at_least_3_10(CPU, {"KernelVersion": "3.10.0-fake"})
    with pytest.raises(AssertionError) as raised:
        kernel_checks.test_host_kernel_at_least_3_10(CPU, {"KernelVersion": "2.6.32-fake"})
    assert str(raised.value).splitlines()[0] == (
        "cpu: the Docker host's kernel is '2.6.32-fake'; the install page needs at least 3.10"
    )


def test_container_on_another_kernel_fails() -> None:
    """TEST DOUBLE: the probe's JSON saying the container runs another kernel than the host's."""
    facts = ImageFacts(CPU, probe_raw=cast(Probe, {"kernel": "4.4.0-fake"}))
    kernel_checks.test_container_sees_host_kernel(CPU, facts, {"KernelVersion": "4.4.0-fake"})
    with pytest.raises(AssertionError) as raised:
        kernel_checks.test_container_sees_host_kernel(CPU, facts, {"KernelVersion": "6.1.0-host"})
    assert str(raised.value).splitlines()[0] == "cpu: the container reports kernel '4.4.0-fake', the host '6.1.0-host'"


def gpu_view(raw: dict[str, Any]) -> gpu.GpuFacts:
    """TEST DOUBLE of the GPU probe's JSON in a gpu variant's container (seed mapping)."""
    empty: dict[str, Any] = {
        "device_nodes": [],
        "libcuda_files": [],
        "libcuda": None,
        "nvidia_smi": None,
        "paddle": None,
    }
    return gpu.GpuFacts(as_gpu_variant(), "seed", raw=cast(GpuProbe, {**empty, **raw}))


def child(data: dict[str, Any]) -> dict[str, Any]:
    return {
        "argv": [],
        "rc": 0,
        "stdout": "",
        "stderr": "",
        "error": None,
        "timed_out": False,
        "seconds": 0.1,
        "data": data,
    }


@AS_ROOT
def test_nvidia_smi_listing_other_gpus_fails(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=2, smi=True))
    assert host.uuids == [fake_uuid(0), fake_uuid(1)]
    smi = {"argv": ["nvidia-smi", "-L"], "rc": 0, "stderr": "", "error": None, "timed_out": False, "seconds": 0.1}
    same = "\n".join(f"GPU {i}: Fake GPU (UUID: {fake_uuid(i)})" for i in range(2))
    other = "GPU 0: Another GPU (UUID: GPU-00000000-0000-0000-0000-000000000000)"
    for listing, fails in ((same, False), (other, True)):
        facts = gpu_view({"nvidia_smi": {**smi, "stdout": listing}})
        check = gpu.GpuCheck(facts.variant, host, "seed", _returning(facts))
        if not fails:
            gpu_checks.test_nvidia_smi_lists_host_gpus(facts.variant, check)
            continue
        with pytest.raises(AssertionError) as raised:
            gpu_checks.test_nvidia_smi_lists_host_gpus(facts.variant, check)
        assert str(raised.value).splitlines()[0] == (
            "gpu: `nvidia-smi -L` in the container lists ['GPU-00000000-0000-0000-0000-000000000000'], "
            f"the host's GPUs are {[fake_uuid(0), fake_uuid(1)]}"
        )


@AS_ROOT
def test_gpu_matmul_that_differs_from_the_cpu_fails(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=1))
    matmul = {
        "ok": True,
        "shape": [256, 256],
        "gpu_place": "Place(gpu:0)",
        "cpu_place": "Place(cpu)",
        "numpy_diff": 0.0,
    }
    for diff, fails in ((0.0, False), (1.0, True)):
        paddle = {
            "compiled_with_cuda": True,
            "device_count": 1,
            "count_how": "double",
            "matmul": {**matmul, "max_abs_diff": diff},
        }
        facts = gpu_view({"paddle": child(paddle)})
        check = gpu.GpuCheck(facts.variant, host, "seed", _returning(facts))
        if not fails:
            gpu_checks.test_gpu_matmul_matches_cpu(facts.variant, check)
            continue
        with pytest.raises(AssertionError) as raised:
            gpu_checks.test_gpu_matmul_matches_cpu(facts.variant, check)
        assert str(raised.value).splitlines()[0] == (
            "gpu: a [256, 256] integer-valued matmul on Place(gpu:0) differs from the CPU's by up to 1.0 ; expected exactly 0"
        )


@AS_ROOT
def test_gpus_without_a_libcuda_to_mount_fail(tmp_path: Path) -> None:
    """The fake host tree with device nodes and /proc entries, and its libcuda removed."""
    root = fake_host(tmp_path, gpus=1)
    for lib in (root / "usr" / "lib64").glob("libcuda.so*"):
        lib.unlink()
    host = gpu.discover(root)
    assert host.found
    variant = as_gpu_variant()
    check = gpu.GpuCheck(variant, host, "seed", lambda: cast(Any, None))
    gpu_checks.test_host_has_nvidia_gpu(variant, dataclasses.replace(check, mode="gpus"))  # --gpus needs none
    with pytest.raises(AssertionError) as raised:
        gpu_checks.test_host_has_nvidia_gpu(variant, check)
    assert str(raised.value).startswith("gpu: the seed mapping mounts the host's libcuda, none found: ")


def _returning(facts: gpu.GpuFacts) -> Callable[[], gpu.GpuFacts]:
    return lambda: facts
