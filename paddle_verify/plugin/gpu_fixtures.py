"""Fixtures of the GPU checks: the host's GPUs, the container's view of them, the no-GPU policy.

gpu variants get a container of their own, started with the ``--gpu-mode`` mapping (only on
a host with GPUs); cpu variants are probed in their keep-alive container, started the
default way. On a host without a GPU, the first GPU-device check of the run fails (naming
every gpu variant and where it looked) and every other one is not run, and says so.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from .. import gpu
from ..facts import FactMissing, ImageFacts, Kind
from ..gpu import readiness
from ..manifest import Variant
from .fleet import Fleet
from .run import run_of, variant_of


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = run_of(config)
    if not any(v.flavour == "gpu" for v in run.variants):
        return []
    host = run.host_gpus
    lines = [f"paddle-verify gpu: mapping {config.getoption('--gpu-mode')}; host: {host.describe()}"]
    # The host's readiness for the selected gpu variants: what `paddle-verify host` prints.
    lines += readiness.assess(host, run.variants, timeout=config.getoption("--exec-timeout")).lines
    if not host.found and config.getoption("--allow-no-gpu"):
        lines.append(
            "paddle-verify gpu: --allow-no-gpu: the gpu variants' image checks run on the CPU (paddle's "
            "run_check there must say it works on 1 CPU); their GPU-device checks are not run"
        )
    return lines


def pytest_sessionstart(session: pytest.Session) -> None:
    """The GPU line of summary.json: what the host has, and where the gpu variants' checks ran."""
    config = session.config
    run = run_of(config)
    if not any(v.flavour == "gpu" for v in run.variants):
        return
    host = run.host_gpus
    run.recorder.note(
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
    return run_of(pytestconfig).host_gpus


@pytest.fixture(scope="session")
def gpu_mapping(host_gpus: gpu.HostGpus, pytestconfig: pytest.Config) -> gpu.GpuMapping:
    """How gpu variants' containers get the host's GPUs (``--gpu-mode``)."""
    mode = pytestconfig.getoption("--gpu-mode")
    mapping = gpu.mapping(host_gpus, mode)
    recorder = run_of(pytestconfig).recorder
    recorder.note("gpu", {**recorder.notes.get("gpu", {}), "mode": mode, "mapping": mapping.description})
    return mapping


@pytest.fixture(scope="session")
def gpu_facts(
    columns: Fleet,
    image_facts: Kind[ImageFacts],
    host_gpus: gpu.HostGpus,
    gpu_mapping: gpu.GpuMapping,
    pytestconfig: pytest.Config,
) -> Callable[[Variant], gpu.GpuFacts]:
    """``gpu_facts(variant)``: what a container of the variant sees of the GPUs (once per variant and
    engine; the mapping is this host's, as discovered here)."""
    timeout = pytestconfig.getoption("--exec-timeout")

    def one(variant: Variant) -> gpu.GpuFacts:
        column = columns.of(variant)
        if variant.flavour == "gpu":
            return gpu.gather(column.session, variant, gpu_mapping, timeout=timeout)
        base = column.gatherer.get(image_facts, variant)
        why = base.unavailable()
        if why is not None or base.container_id is None:
            raise why or base.missing("no keep-alive container to probe")  # the image's own cause
        return gpu.gather(column.session, variant, None, timeout=timeout, container_id=base.container_id)

    def wanted(variant: Variant) -> bool:
        if variant.flavour == "cpu":
            return True  # probed in its keep-alive container
        # A gpu variant needs the host's GPUs, and an engine that can map them (else gpu_check says why).
        return host_gpus.found and not gpu.engine_refuses(gpu_mapping.mode, columns.kind(variant))

    kind = Kind("gpu", one)
    run = run_of(pytestconfig)
    run.start_all(kind, run.variants, where=wanted)
    return lambda variant: columns.of(variant).gatherer.get(kind, variant)


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
        v = variant_of(item)
        if item.get_closest_marker("gpu_device") and v is not None and v.name not in names:
            names.append(v.name)
    return names


def _raise(message: str) -> gpu.GpuFacts:
    raise FactMissing(message, fault="host")  # no GPU on this host: the host's
