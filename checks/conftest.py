"""Fixtures of the SSH checks (the SSH facts of each variant, findings) and of the GPU checks (the
container's view of the GPUs, the no-GPU policy)."""

from __future__ import annotations

import concurrent.futures
import secrets
import warnings
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import pytest

from paddle_verify import gpu
from paddle_verify.engine import Session
from paddle_verify.facts import FactMissing, Fleet
from paddle_verify.gpu import NO_GPU, GpuFacts, HostGpus
from paddle_verify.manifest import Variant
from paddle_verify.plugin import RECORDER_KEY, SELECTED_KEY, host_gpus_of
from paddle_verify.ssh import SSH_DIR, SecurityFinding, SshFacts, gather


@pytest.fixture(scope="session")
def ssh_password(pytestconfig: pytest.Config) -> str:
    """The root password the SSH containers get at run time: random per session unless given."""
    given: str | None = pytestconfig.getoption("--ssh-password")
    return given if given else secrets.token_urlsafe(18)


@pytest.fixture(scope="session")
def ssh_facts(
    docker_session: Session, selected_variants: list[Variant], ssh_password: str, pytestconfig: pytest.Config
) -> Generator[Callable[[Variant], SshFacts], None, None]:
    """``ssh_facts(variant)``: build, run, log in, probe, stop and remove, for every variant at once."""
    given = pytestconfig.getoption("--ssh-context")
    context = Path(pytestconfig.invocation_params.dir, given) if given else SSH_DIR
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(selected_variants)))
    bind, timeout = pytestconfig.getoption("--ssh-bind"), pytestconfig.getoption("--exec-timeout")
    futures = {
        v.name: pool.submit(
            gather, docker_session, v, password=ssh_password, bind=bind, timeout=timeout, context=context
        )
        for v in selected_variants
    }
    try:
        yield lambda variant: futures[variant.name].result()
    finally:
        docker_session.close()  # first: a thread still waiting on a container is released at once
        pool.shutdown(wait=True, cancel_futures=True)


@pytest.fixture(scope="session", autouse=True)
def _start_ssh_early(request: pytest.FixtureRequest) -> None:
    """Start the SSH gathering with the session when SSH checks were selected: it overlaps the others."""
    if any(item.get_closest_marker("ssh") for item in request.session.items):
        request.getfixturevalue("ssh_facts")


@pytest.fixture
def finding(pytestconfig: pytest.Config) -> Callable[[bool, str], None]:
    """``finding(safe, message)``: nothing when safe; else a warning, or a failure with --release."""
    release = bool(pytestconfig.getoption("--release"))

    def report(safe: bool, message: str) -> None:
        if safe:
            return
        if release:
            pytest.fail(f"security finding (--release): {message}")
        warnings.warn(SecurityFinding(message), stacklevel=2)

    return report


# --- GPU ---------------------------------------------------------------------


def pytest_report_header(config: pytest.Config) -> list[str]:
    if not any(v.flavour == "gpu" for v in config.stash[SELECTED_KEY]):
        return []
    host = host_gpus_of(config)
    return [f"paddle-verify gpu: mapping {config.getoption('--gpu-mode')}; host: {host.describe()}"]


@pytest.fixture(scope="session")
def gpu_facts(
    docker_session: Session,
    selected_variants: list[Variant],
    host_gpus: HostGpus,
    fleet: Fleet,
    pytestconfig: pytest.Config,
) -> Generator[Callable[[Variant], GpuFacts], None, None]:
    """``gpu_facts(variant)``: what a container of the variant sees of the GPUs, gathered concurrently.

    gpu variants: a container of their own, started with the ``--gpu-mode`` mapping (only on a host
    with GPUs). cpu variants: the suite's keep-alive container, started the default way.
    """
    mode, timeout = pytestconfig.getoption("--gpu-mode"), pytestconfig.getoption("--exec-timeout")
    gpu_mapping = gpu.mapping(host_gpus, mode)
    pytestconfig.stash[RECORDER_KEY].note(
        "gpu", {"mode": mode, "mapping": gpu_mapping.description, "host": host_gpus.describe()}
    )

    def one(variant: Variant) -> GpuFacts:
        if variant.flavour == "gpu":
            return gpu.gather(docker_session, variant, gpu_mapping, timeout=timeout)
        base = fleet.facts(variant.name)
        if base.container_id is None:
            return GpuFacts(variant, None, error=base.image_error or base.probe_error)
        return gpu.gather(docker_session, variant, None, timeout=timeout, container_id=base.container_id)

    wanted = [v for v in selected_variants if v.flavour == "cpu" or host_gpus.found]
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, len(wanted)))
    futures = {v.name: pool.submit(one, v) for v in wanted}
    try:
        yield lambda variant: futures[variant.name].result()
    finally:
        docker_session.close()  # first: a thread still waiting on a container is released at once
        pool.shutdown(wait=True, cancel_futures=True)


@dataclass(frozen=True)
class GpuCheck:
    """What a GPU-device check of one variant works with: the host's GPUs, the mode, the container's view."""

    variant: Variant
    host: HostGpus
    mode: str
    view: Callable[[], GpuFacts]
    no_gpu: str = ""  # on a host without a GPU: the run's one failure message

    @property
    def facts(self) -> GpuFacts:
        return self.view()


@pytest.fixture
def gpu_check(
    request: pytest.FixtureRequest,
    variant: Variant,
    host_gpus: HostGpus,
    pytestconfig: pytest.Config,
) -> GpuCheck:
    """The no-GPU policy: on a host without a GPU, the first GPU-device check of the run fails
    (naming every gpu variant and where it looked); every other one is not run, and says so."""
    mode = pytestconfig.getoption("--gpu-mode")
    if not host_gpus.found:
        first = _first_gpu_check(request.session)
        if request.node.nodeid != first:
            pytest.skip(f"{variant.name}: not run: {NO_GPU} (reported once, by {first.split('::')[-1]})")
        names = ", ".join(_gpu_variant_names(request.session))
        message = f"{names}: {host_gpus.absence()}; the GPU checks of these variants were not run"
        return GpuCheck(variant, host_gpus, mode, lambda: _raise(message), no_gpu=message)
    get: Callable[[Variant], GpuFacts] = request.getfixturevalue("gpu_facts")
    return GpuCheck(variant, host_gpus, mode, lambda: get(variant))


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


def _raise(message: str) -> GpuFacts:
    raise FactMissing(message)
