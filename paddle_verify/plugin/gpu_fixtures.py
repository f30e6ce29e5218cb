"""Fixtures of the GPU checks: the host's GPUs, the container's view of them, the no-GPU policy.

gpu variants get a container of their own, started with the ``--gpu-mode`` mapping (only on
a host with GPUs); cpu variants are probed in their keep-alive container, started the
default way. On a host without a GPU, the first GPU-device check of the run fails (naming
every gpu variant and where it looked) and every other one is not run, and says so.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from .. import gpu
from ..engine import Session
from ..facts import FactMissing, Gatherer, ImageFacts, Kind
from ..gpu import readiness
from ..manifest import Variant
from .host_gpus import HOST_GPUS_KEY as HOST_GPUS_KEY
from .host_gpus import host_gpus_of as host_gpus_of
from .lifecycle import RECORDER_KEY
from .selection import engine_of, on_engines, selected

if TYPE_CHECKING:  # a type only: engines.py is a plugin module of its own, registered after this one
    from .engines import Fleet


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not any(v.flavour == "gpu" for v in selected(config)):
        return []
    host = host_gpus_of(config)
    lines = [f"paddle-verify gpu: mapping {config.getoption('--gpu-mode')}; host: {host.describe()}"]
    # The host's readiness for the selected gpu variants: what `paddle-verify host` prints.
    lines += readiness.assess(host, selected(config), timeout=config.getoption("--exec-timeout")).lines
    if not host.found and config.getoption("--allow-no-gpu"):
        lines.append(
            "paddle-verify gpu: --allow-no-gpu: the gpu variants' image checks run on the CPU (paddle's "
            "run_check there must say it works on 1 CPU); their GPU-device checks are not run"
        )
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """The GPU line of summary.json: what the host has, and where the gpu variants' checks ran."""
    config = session.config
    if not any(v.flavour == "gpu" for v in selected(config)):
        return
    host = host_gpus_of(config)
    config.stash[RECORDER_KEY].note(
        "gpu",
        {
            "host": host.describe(),
            "allow_no_gpu": bool(config.getoption("--allow-no-gpu")),
            "image_checks_on": "GPU" if host.found else "CPU (no GPU on this host)",
        },
    )


@pytest.fixture(scope="session")
def host_gpus(pytestconfig: pytest.Config) -> gpu.HostGpus:
    """The host's NVIDIA GPUs, device nodes, driver version and libraries (see :func:`gpu.discover`)."""
    return host_gpus_of(pytestconfig)


@pytest.fixture(scope="session")
def gpu_mapping(host_gpus: gpu.HostGpus, pytestconfig: pytest.Config) -> gpu.GpuMapping:
    """How gpu variants' containers get the host's GPUs (``--gpu-mode``)."""
    mode = pytestconfig.getoption("--gpu-mode")
    mapping = gpu.mapping(host_gpus, mode)
    recorder = pytestconfig.stash[RECORDER_KEY]
    recorder.note("gpu", {**recorder.notes.get("gpu", {}), "mode": mode, "mapping": mapping.description})
    return mapping


@pytest.fixture(scope="session")
def gpu_facts(
    sessions: dict[str, Session],
    gatherers: dict[str, Gatherer],
    fleet: Fleet,
    image_facts: Kind[ImageFacts],
    host_gpus: gpu.HostGpus,
    gpu_mapping: gpu.GpuMapping,
    pytestconfig: pytest.Config,
) -> Callable[[Variant], gpu.GpuFacts]:
    """``gpu_facts(variant)``: what a container of the variant sees of the GPUs (once per variant and
    engine; the mapping is this host's, as discovered here)."""
    timeout = pytestconfig.getoption("--exec-timeout")

    def one(variant: Variant) -> gpu.GpuFacts:
        session = fleet.pick(sessions, variant)
        if variant.flavour == "gpu":
            return gpu.gather(session, variant, gpu_mapping, timeout=timeout)
        base = fleet.pick(gatherers, variant).get(image_facts, variant)
        why = base.unavailable()
        if why is not None or base.container_id is None:
            raise why or base.missing("no keep-alive container to probe")  # the image's own cause
        return gpu.gather(session, variant, None, timeout=timeout, container_id=base.container_id)

    kind = Kind("gpu", one)
    mode = gpu_mapping.mode
    for variant in on_engines(pytestconfig, selected(pytestconfig)):
        if gpu.engine_refuses(mode, fleet.kind(variant)) and variant.flavour == "gpu":
            continue  # its GPU checks are not run on that engine (gpu_check says why)
        if (variant.flavour == "cpu" or host_gpus.found) and engine_of(pytestconfig, variant).name in gatherers:
            fleet.pick(gatherers, variant).start(kind, [variant])
    return lambda variant: fleet.pick(gatherers, variant).get(kind, variant)


@pytest.fixture
def gpu_check(
    request: pytest.FixtureRequest,
    variant: Variant,
    host_gpus: gpu.HostGpus,
    pytestconfig: pytest.Config,
) -> gpu.GpuCheck:
    """The no-GPU policy: on a host without a GPU, the first GPU-device check of the run fails
    (naming every gpu variant and where it looked); every other one is not run, and says so."""
    mode = pytestconfig.getoption("--gpu-mode")
    if not host_gpus.found:
        first = _first_gpu_check(request.session)
        if request.node.nodeid != first:
            pytest.skip(f"{variant.name}: not run: {gpu.NO_GPU} (reported once, by {first.split('::')[-1]})")
        names = ", ".join(_gpu_variant_names(request.session))
        message = f"{names}: {host_gpus.absence()}; the GPU checks of these variants were not run"
        if pytestconfig.getoption("--allow-no-gpu"):
            checks = sorted({i.name.split("[")[0] for i in request.session.items if i.get_closest_marker("gpu_device")})
            pytest.skip(f"{message} (--allow-no-gpu): {', '.join(checks)}")
        return gpu.GpuCheck(variant, host_gpus, mode, lambda: _raise(message), no_gpu=message)
    refused = gpu.engine_refuses(mode, request.getfixturevalue("fleet").kind(variant))
    if refused:  # the engine cannot do what the mapping asks: nothing to judge the image by
        pytest.skip(f"{variant.id}: not run on this engine: {refused}")
    get: Callable[[Variant], gpu.GpuFacts] = request.getfixturevalue("gpu_facts")
    return gpu.GpuCheck(variant, host_gpus, mode, lambda: get(variant))


def _first_gpu_check(session: pytest.Session) -> str:
    return next(item.nodeid for item in session.items if item.get_closest_marker("gpu_device"))


def _gpu_variant_names(session: pytest.Session) -> list[str]:
    names = []
    for item in session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        v = params.get("variant")
        if item.get_closest_marker("gpu_device") and isinstance(v, Variant) and v.name not in names:
            names.append(v.name)
    return names


def _raise(message: str) -> gpu.GpuFacts:
    raise FactMissing(message)
