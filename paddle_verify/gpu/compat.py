"""Does the host's NVIDIA driver support the image's CUDA runtime?

NVIDIA's minimum Linux driver per CUDA major version (the CUDA compatibility guide:
"minor version compatibility"): any 11.x runtime runs on a driver >= 450.80.02, 12.x on
>= 525.60.13, 13.x on >= 580. A newer CUDA on an older driver works only with the
``cuda-compat`` package on datacenter GPUs, which a plain image does not carry.
"""

from __future__ import annotations

import re

MIN_DRIVER = {11: "450.80.02", 12: "525.60.13", 13: "580.00"}


def cuda_version(runtime: int) -> str:
    """``11080`` (cudaRuntimeGetVersion) -> ``"11.8"``."""
    return f"{runtime // 1000}.{runtime % 1000 // 10}"


def runtime_number(x_y: str) -> int:
    """``"12.6"`` (a declared CUDA) -> ``12060``, cudaRuntimeGetVersion's number for it."""
    major, minor = (int(n) for n in x_y.split(".")[:2])
    return major * 1000 + minor * 10


def cudnn_version(number: int) -> str:
    """cudnnGetVersion's number -> ``MAJOR.MINOR``: ``8600`` -> ``"8.6"`` (cuDNN 8: M*1000 + m*100 + p),
    ``90501`` -> ``"9.5"`` (cuDNN 9: M*10000 + m*100 + p)."""
    if number >= 90000:
        return f"{number // 10000}.{number % 10000 // 100}"
    return f"{number // 1000}.{number % 1000 // 100}"


def x_y(version: str) -> str:
    """``"8.6.0"`` -> ``"8.6"``: a version's MAJOR.MINOR, as a manifest declares it."""
    return ".".join(version.split(".")[:2])


def _numbers(version: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", version))


def driver_misfit(runtime: int, driver: str) -> str | None:
    """Why ``driver`` cannot run CUDA ``runtime`` (cudaRuntimeGetVersion's number), or None."""
    major = runtime // 1000
    minimum = MIN_DRIVER.get(major)
    if minimum is None:
        return f"CUDA {cuda_version(runtime)}: no known minimum driver (known: CUDA {', '.join(map(str, MIN_DRIVER))})"
    if _numbers(driver) < _numbers(minimum):
        return (
            f"the image's CUDA runtime is {cuda_version(runtime)}, the host's driver {driver} is older than "
            f"{minimum}, the minimum for CUDA {major}.x"
        )
    return None
