"""gpu images carry the CUDA libraries their paddle loads, of the CUDA their paddle was built
with, and the host's driver can run that CUDA.

Without a GPU: the libraries are loaded (ctypes) by the names paddle dlopens, and the image's
CUDA runtime and cuDNN report their versions; no driver is needed for either. The driver fit
needs the host's driver version: it is a GPU-device check.
"""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.gpu import GpuCheck
from paddle_verify.gpu.compat import cuda_version, cudnn_version, driver_misfit
from paddle_verify.manifest import Variant

pytestmark = [pytest.mark.flavour("gpu"), pytest.mark.contract("runtime.cuda_runtime")]


def test_cuda_library_loads(variant: Variant, cuda_library: str, facts: ImageFacts) -> None:
    found = facts.cuda["libraries"][cuda_library]
    assert found["ok"], f"{variant.name}: the CUDA library {cuda_library} does not load: {found.get('error')}"


@pytest.mark.contract("carries.paddle")
def test_paddle_built_with_the_image_cuda(variant: Variant, facts: ImageFacts) -> None:
    cuda, paddle = facts.cuda, facts.imports["paddle"] or {}
    runtime = cuda["runtime_version"]
    assert runtime, f"{variant.name}: no CUDA runtime version from {cuda['runtime']}: {cuda.get('runtime_error')}"
    built = paddle.get("cuda")
    assert built == cuda_version(runtime), (
        f"{variant.name}: paddle was built with CUDA {built}, the image's runtime ({cuda['runtime']}) is "
        f"CUDA {cuda_version(runtime)} (read from: {cuda['runtime_version_from']})"
    )
    cudnn, built_cudnn = cuda["cudnn_version"], paddle.get("cudnn") or ""
    if cudnn is not None:
        shipped = cudnn_version(cudnn)
        assert built_cudnn.startswith(shipped), (
            f"{variant.name}: paddle was built with cuDNN {built_cudnn}, the image ships cuDNN {shipped}"
        )


@pytest.mark.gpu_device
def test_host_driver_runs_the_image_cuda(variant: Variant, gpu_check: GpuCheck, facts: ImageFacts) -> None:
    host = gpu_check.host
    assert host.found, gpu_check.no_gpu  # the run's one failure on a host without a GPU
    runtime = facts.cuda["runtime_version"]
    assert runtime, f"{variant.name}: the image's CUDA runtime version is unknown"
    assert host.driver_version, f"{variant.name}: the host's driver version is unknown: {'; '.join(host.looked_at)}"
    misfit = driver_misfit(runtime, host.driver_version)
    assert misfit is None, f"{variant.name}: {misfit}"
