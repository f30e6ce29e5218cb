"""The JSON the in-image GPU probe (``inimage/gpu_probe.py``) prints, as typed dicts: the shapes
both that script and the host-side GPU facts (``gpu/facts.py``) use."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from .schema import ChildResult, DevelBuild, Outcome, RunResult, StepError

# gpu_probe.py --------------------------------------------------------------


class DeviceNode(TypedDict):
    path: str
    kind: str  # char, dir, other, unreadable
    major: NotRequired[int]
    minor: NotRequired[int]
    error: NotRequired[str]


class Libcuda(TypedDict):
    loaded: str | None
    tried: list[str]
    init: int | None
    count: int | None
    driver_version: int | None
    names: list[str]
    uuids: list[str]
    count_rc: NotRequired[int]


class GpuMatmul(Outcome):
    shape: NotRequired[list[int]]
    gpu_place: NotRequired[str]
    cpu_place: NotRequired[str]
    max_abs_diff: NotRequired[float]
    numpy_diff: NotRequired[float]


class PaddleGpu(TypedDict):
    compiled_with_cuda: bool | None
    device_count: int | None
    count_how: str | None
    matmul: GpuMatmul | None
    error: NotRequired[str]


class GpuProbe(TypedDict):
    """``PADDLE_VERIFY_GPU=`` of ``inimage/gpu_probe.py``."""

    device_nodes: list[DeviceNode]
    libcuda_files: list[str]
    libcuda: ChildResult | StepError | None  # data: Libcuda
    nvidia_smi: RunResult | StepError | None
    paddle: ChildResult | StepError | None  # data: PaddleGpu
    run_check: NotRequired[ChildResult | StepError | None]  # data: RunCheck
    cuda_program: NotRequired[DevelBuild | StepError | None]  # devel gpu variants: built and run
