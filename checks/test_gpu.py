"""gpu images see and use the host's GPUs; cpu images see none unless asked.

A gpu variant's container gets the host's GPUs the way ``--gpu-mode`` says:
``seed`` (the install page: ``--device`` for every ``/dev/nvidia*``, ``-v`` for
every driver library at its own path) or ``gpus`` (``--gpus all``). Then: the
device nodes are there, libcuda loads and counts the host's GPUs, ``nvidia-smi
-L`` (where the container has it) lists the host's GPUs, paddle sees them, and a
matmul on the GPU gives exactly the CPU's answer. ``with_gpu: ON`` is checked by
``test_version.py``.

On a host without a GPU, the first of these checks fails, naming what was
looked at; the others are not run and say why. A cpu variant's container,
started the default way, must see no GPU at all.
"""

from collections.abc import Callable

import pytest

from paddle_verify.gpu import GpuCheck, GpuFacts, smi_uuids
from paddle_verify.manifest import Variant


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
@pytest.mark.about_host
def test_host_has_nvidia_gpu(variant: Variant, gpu_check: GpuCheck) -> None:
    host = gpu_check.host
    assert host.found, gpu_check.no_gpu  # the run's one failure on a host without a GPU
    if gpu_check.mode == "seed":
        assert any(p.name.startswith("libcuda.so") for p in host.libraries), (
            f"{variant.name}: the seed mapping mounts the host's libcuda, none found: {'; '.join(host.looked_at)}"
        )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
def test_gpu_device_nodes_present(variant: Variant, gpu_check: GpuCheck) -> None:
    expected = gpu_check.host.gpu_nodes
    nodes = {n["path"]: n["kind"] for n in gpu_check.facts.device_nodes}
    missing = [p for p in expected if nodes.get(p) != "char"]
    assert not missing, (
        f"{variant.name}: the container ({gpu_check.facts.description}) lacks the device node(s) {missing}; "
        f"expected {expected} as character devices, found {sorted(nodes) or 'no /dev/nvidia*'}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
def test_libcuda_counts_host_gpus(variant: Variant, gpu_check: GpuCheck) -> None:
    facts, host = gpu_check.facts, gpu_check.host
    cuda = facts.libcuda
    assert cuda["loaded"], (
        f"{variant.name}: libcuda does not load in the container ({facts.description}); "
        f"expected it loaded, tried: {cuda['tried']}"
    )
    assert cuda["init"] == 0, f"{variant.name}: cuInit(0) returned {cuda['init']} ({cuda['loaded']}), expected 0"
    assert cuda["count"] == host.count, (
        f"{variant.name}: libcuda ({cuda['loaded']}) counts {cuda['count']} GPU(s) in the container, "
        f"the host has {host.count} ({host.source}); mapping {facts.description}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
def test_nvidia_smi_lists_host_gpus(variant: Variant, gpu_check: GpuCheck) -> None:
    facts, host = gpu_check.facts, gpu_check.host
    smi = facts.nvidia_smi
    if smi is None:
        pytest.skip(f"{variant.name}: no nvidia-smi in the container ({facts.description}): nothing to compare")
    if not host.uuids:
        pytest.skip(f"{variant.name}: the host's GPU UUIDs are unknown ({host.source}): nothing to compare")
    assert smi["rc"] == 0, (
        f"{variant.name}: `nvidia-smi -L` in the container exited {smi['rc']}: {smi['stderr'][-300:]!r}"
    )
    inside = smi_uuids(smi["stdout"])
    assert inside == host.uuids, (
        f"{variant.name}: `nvidia-smi -L` in the container lists {inside}, the host's GPUs are {host.uuids}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
@pytest.mark.contract("carries.paddle")
def test_paddle_sees_host_gpus(variant: Variant, gpu_check: GpuCheck) -> None:
    paddle = gpu_check.facts.paddle
    assert "error" not in paddle, f"{variant.name}: paddle's GPU probe failed: {paddle.get('error')}"
    assert paddle["device_count"] == gpu_check.host.count, (
        f"{variant.name}: paddle ({paddle['count_how']}) sees {paddle['device_count']} GPU(s), "
        f"the host has {gpu_check.host.count}; compiled with CUDA: {paddle['compiled_with_cuda']}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
@pytest.mark.contract("carries.paddle")
def test_gpu_matmul_matches_cpu(variant: Variant, gpu_check: GpuCheck) -> None:
    paddle = gpu_check.facts.paddle
    result = paddle.get("matmul")
    assert result is not None, (
        f"{variant.name}: no GPU computation was tried: paddle sees {paddle.get('device_count')} GPU(s) "
        f"({paddle.get('error') or 'no error'})"
    )
    assert result["ok"], f"{variant.name}: a paddle matmul on GPU 0 failed: {result.get('error')}"
    assert "gpu" in result["gpu_place"].lower(), (
        f"{variant.name}: the matmul meant for GPU 0 ran on {result['gpu_place']}, expected a GPU place"
    )
    assert result["numpy_diff"] == 0.0, (
        f"{variant.name}: paddle's {result['shape']} matmul on the CPU differs from numpy's by {result['numpy_diff']}"
    )
    assert result["max_abs_diff"] == 0.0, (
        f"{variant.name}: a {result['shape']} integer-valued matmul on {result['gpu_place']} differs from the CPU's "
        f"by up to {result['max_abs_diff']} ; expected exactly 0"
    )


@pytest.mark.flavour("cpu")
def test_cpu_variant_sees_no_gpu(variant: Variant, gpu_facts: Callable[[Variant], GpuFacts]) -> None:
    facts = gpu_facts(variant)
    seen = {
        "device nodes": [n["path"] for n in facts.device_nodes],
        "libcuda loaded as": facts.libcuda["loaded"],
        "libcuda files": facts.libcuda_files,
    }
    seen = {what: found for what, found in seen.items() if found}
    assert not seen, f"{variant.name}: a container started the default way should see no GPU, it sees {seen}"
