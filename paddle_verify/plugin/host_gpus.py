"""The host's GPUs, looked up once per run: read by the engines' fingerprints (``engines.py``) and
by the GPU fixtures (``gpu_fixtures.py``), so that neither imports the other for it."""

from __future__ import annotations

import pytest

from .. import gpu

HOST_GPUS_KEY = pytest.StashKey[gpu.HostGpus]()


def host_gpus_of(config: pytest.Config) -> gpu.HostGpus:
    """The host's GPUs, looked up once per run (``--driver-lib-dir`` adds library directories)."""
    if HOST_GPUS_KEY not in config.stash:
        config.stash[HOST_GPUS_KEY] = gpu.discover(lib_dirs=config.getoption("--driver-lib-dir"))
    return config.stash[HOST_GPUS_KEY]
