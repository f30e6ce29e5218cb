"""Each variant carries what its manifest declares: its Python, and a gpu variant the CUDA and cuDNN
its tag names, in its paddle's build, in the image's libraries, and runnable by the host's driver."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.gpu import GpuCheck
from paddle_verify.gpu.compat import cuda_version, cudnn_version, driver_misfit, runtime_number, x_y
from paddle_verify.manifest import Variant


@pytest.mark.contract("carries.python_version")
def test_python_as_declared(variant: Variant, facts: ImageFacts) -> None:
    found, declared = facts.python_version, variant.carries.python_version
    assert x_y(found) == declared, (
        f"{variant.name}: the image's {variant.python} is Python {found}, the variant declares Python {declared}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.contract("carries.cuda")
@pytest.mark.contract("carries.paddle")
def test_paddle_built_with_the_declared_cuda(variant: Variant, facts: ImageFacts) -> None:
    paddle, declared = facts.imports["paddle"] or {}, variant.carries
    built = paddle.get("cuda")
    assert built == declared.cuda, (
        f"{variant.name}: paddle was built with CUDA {built}, the variant declares CUDA {declared.cuda}"
    )
    built_cudnn = paddle.get("cudnn")
    assert declared.cudnn is None or x_y(built_cudnn or "") == declared.cudnn, (
        f"{variant.name}: paddle was built with cuDNN {built_cudnn}, the variant declares cuDNN {declared.cudnn}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.contract("carries.cuda")
@pytest.mark.contract("runtime.cuda_runtime")
def test_image_carries_the_declared_cuda(variant: Variant, facts: ImageFacts) -> None:
    cuda, declared = facts.cuda, variant.carries
    runtime = cuda["runtime_version"]
    found = cuda_version(runtime) if runtime else f"unknown ({cuda['runtime']}: {cuda.get('runtime_error')})"
    assert found == declared.cuda, (
        f"{variant.name}: the image's CUDA runtime is CUDA {found}, the variant declares CUDA {declared.cuda}"
    )
    shipped = cuda["cudnn_version"]
    found_cudnn = cudnn_version(shipped) if shipped is not None else "unknown (libcudnn.so did not load)"
    assert declared.cudnn is None or found_cudnn == declared.cudnn, (
        f"{variant.name}: the image ships cuDNN {found_cudnn}, the variant declares cuDNN {declared.cudnn}"
    )


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
@pytest.mark.contract("carries.cuda")
def test_host_driver_runs_the_declared_cuda(variant: Variant, gpu_check: GpuCheck) -> None:
    host, declared = gpu_check.host, variant.carries.cuda
    assert host.found, gpu_check.no_gpu  # the run's one failure on a host without a GPU
    assert host.driver_version, f"{variant.name}: the host's driver version is unknown: {'; '.join(host.looked_at)}"
    misfit = driver_misfit(runtime_number(declared or ""), host.driver_version)
    assert misfit is None, f"{variant.name}: declares CUDA {declared}: {misfit}"
