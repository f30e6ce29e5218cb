"""Podman as an engine, beside Docker, in one run: its fingerprint, the contract on both engines
(SSH included), the one-tag-one-image check by image ID, a lost Podman service costing its column
only, and the ``cdi`` GPU mapping through Podman's libpod API on a TEST DOUBLE of an NVIDIA host.

The Podman service is Debian's podman, started by ``scripts/ensure-podman.sh`` on its
Docker-compatible socket; the cpu reference images are copied into it by
``scripts/copy-to-podman.sh`` (``docker save | podman load``, only when it lacks them by ID).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Generator
from pathlib import Path

import docker
import pytest

from checks import test_gpu as gpu_checks
from paddle_verify import gpu
from paddle_verify.engine import Engine, Session, connect, leftovers, sweep
from paddle_verify.engine.fingerprint import describe, fingerprint
from paddle_verify.plugin.outcomes import EXIT_HOST

from .conftest import REFERENCE, ROOT, InnerRun, prerequisite, run_suite
from .test_fleet import by_engine, left_on
from .test_gpu import as_gpu_variant, fake_driver_lib, fake_host, fake_uuid

__all__ = ["fake_driver_lib"]  # a fixture, used here by name

DOCKER = "unix:///var/run/docker.sock"
CPU3 = ("cpu", "cpu-devel", "cpu-demo")


def _ensure_podman(socket: str | None = None) -> str:
    """``scripts/ensure-podman.sh`` (installs and starts the service): the socket's URL."""
    prerequisite(os.geteuid() == 0 and Path("/etc/debian_version").exists(), "the Podman tests need root on Debian")
    env = {**os.environ, **({"PODMAN_SOCKET": socket} if socket else {})}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "ensure-podman.sh")], capture_output=True, text=True, env=env, check=False
    )
    prerequisite(proc.returncode == 0, f"the Podman service could not be started: {proc.stderr.strip()[-500:]}")
    return proc.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def podman_url(reference_images: dict[str, str]) -> str:
    """The Podman service's URL, with the three cpu reference images in its storage."""
    url = _ensure_podman()
    copy = subprocess.run(
        ["bash", str(ROOT / "scripts" / "copy-to-podman.sh"), *(reference_images[v] for v in CPU3)],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert copy.returncode == 0, f"copying the cpu reference images into Podman failed: {copy.stderr[-1000:]}"
    return url


@pytest.fixture(scope="module")
def podman_client(podman_url: str) -> Generator[docker.DockerClient, None, None]:
    client = connect(timeout=120, engine=Engine("podman", podman_url))
    yield client
    client.close()


def test_fingerprint_names_podman(podman_client: docker.DockerClient) -> None:
    fp = fingerprint(podman_client)
    assert fp["engine"] == "podman", f"podman: expected the engine kind podman in the fingerprint, found {fp}"
    assert f"Podman {fp['docker']}" in describe(fp), f"podman: the fingerprint's line does not say Podman: {fp}"
    with contextlib.closing(connect()) as local:
        assert fingerprint(local)["engine"] == "docker", "docker: the local engine's kind is not docker"


def test_contract_on_docker_and_podman_in_one_run(
    podman_url: str, podman_client: docker.DockerClient, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """`make check-podman`'s run: the three cpu variants, SSH included, green on both engines, one
    report with a column per variant and engine; the image ID agrees across engines."""
    run = run_suite(
        tmp_path,
        "--manifest",
        str(REFERENCE),
        "--variant",
        "all",
        "--engine",
        f"docker={DOCKER}",
        "--engine",
        f"podman={podman_url}",
        timeout=1200,
    )
    assert run.ret == 0, f"docker, podman: expected every check to pass, exit {run.ret}:\n{run.stdout[-4000:]}"
    columns = by_engine(run)
    assert set(columns) == {"docker", "podman"}, f"expected a column per engine, found {sorted(columns)}"
    assert columns["docker"] == columns["podman"], "docker, podman: the same checks must run and pass on both"
    for variant in CPU3:
        for engine in ("docker", "podman"):
            test = f"test_same_image_on_every_engine[{variant}@{engine}]"
            assert run.outcomes().get(test) == "passed", f"{variant}@{engine}: {test} did not pass: {run.outcomes()}"
            shell = f"test_run_it_gives_a_shell[{variant}@{engine}]"
            assert run.outcomes().get(shell) == "passed", f"{variant}@{engine}: the TTY shell check did not pass"
    assert any("test_ssh" in t for t in columns["podman"]), "podman: the SSH checks did not run"
    assert run.summary is not None
    engines = run.summary["notes"]["engines"]
    assert engines["podman"]["fingerprint"]["engine"] == "podman", f"summary.json: {engines['podman']}"
    assert "Podman" in run.stdout, "the header does not name Podman"
    assert left_on(docker_client, run) == [], "docker: the run left containers behind"
    assert left_on(podman_client, run) == [], "podman: the run left containers behind"
    totals = run.summary["totals"]
    print(f"docker + podman: {totals}")


@pytest.mark.disruptive
def test_podman_service_stopped_mid_run_costs_its_column(
    podman_url: str, podman_client: docker.DockerClient, docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    """A second Podman service of the same storage, on a socket of this test, stopped while the suite
    talks to it is stopped (SIGTERM): its column fails once (the host's fault), the rest not run; Docker's column passes;
    exit 8. What the killed service's containers keep is swept by the next session (dead owner)."""
    socket = f"/run/paddle-verify-test/podman-{uuid.uuid4().hex[:8]}.sock"
    Path(socket).parent.mkdir(parents=True, exist_ok=True)
    conf = "/etc/paddle-verify/podman-containers.conf"  # written by ensure-podman.sh (the ulimits: see there)
    service = subprocess.Popen(
        ["podman", "system", "service", "--time=0", f"unix://{socket}"],
        env={**os.environ, "CONTAINERS_CONF": conf},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _until("the test's Podman service", 60, lambda: _answers(f"unix://{socket}"))
        label = f"selftest-podman-{os.getpid()}"
        proc = subprocess.Popen(
            [
                *(sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider"),
                *("--manifest", str(REFERENCE), "--variant", "all", "--run-label", label),
                *("--engine", f"docker={DOCKER}", "--engine", f"podman=unix://{socket}"),
            ],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            selector = {"label": f"org.paddle-verify.run={label}"}
            _until("a container of the run on Podman", 300, lambda: proc.poll() is None and bool(
                podman_client.api.containers(all=True, filters=selector)
            ))  # fmt: skip
            # Stopped as a service manager stops it (SIGTERM). A SIGKILL in the middle of a removal can
            # leave Podman's store with a half-removed container that breaks its every later listing
            # ("container not known", podman 4.3) until `podman rm -f ID`: the engine's defect, not the run's.
            os.killpg(service.pid, signal.SIGTERM)
            service.wait(timeout=60)
            out, _ = proc.communicate(timeout=600)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    finally:
        if service.poll() is None:
            os.killpg(service.pid, signal.SIGKILL)
            service.wait(timeout=30)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket)
    stdout = out.decode(errors="replace")
    summary = tmp_path / "reports" / "summary.json"
    assert summary.exists(), f"no summary.json:\n{stdout[-3000:]}"
    run = InnerRun(
        ret=proc.returncode, stdout=stdout, stderr="", summary=json.loads(summary.read_text()), path=tmp_path
    )
    assert run.ret == EXIT_HOST, (
        f"podman: expected exit {EXIT_HOST} with its service killed, found {run.ret}:\n{stdout[-3000:]}"
    )
    columns = by_engine(run)
    bad = [t for t, o in columns["docker"].items() if o in ("failed", "error")]
    assert not bad, f"docker: expected to pass while Podman went away, found failures {bad}"
    failed = {t: m for t, m in run.messages().items() if "@podman" in t and run.outcomes()[t] in ("failed", "error")}
    assert len(failed) == 1, f"podman: expected one failure for the lost service, found {len(failed)}: {failed}"
    message = next(iter(failed.values()))
    assert "unreachable" in message or "lost" in message, (
        f"podman: the failure does not name the lost engine: {message}"
    )
    for banned in ("Traceback", "urllib3", "requests.exceptions"):
        assert banned not in stdout, f"podman: a {banned} in the output of a lost engine:\n{stdout[-3000:]}"
    assert left_on(docker_client, run) == [], "docker: the run left containers behind"
    # The killed service's containers keep running under conmon; the next session's sweep takes them.
    sweep(podman_client, dead_only=True)
    assert left_on(podman_client, run) == [], "podman: the next session's sweep left the dead run's containers"
    print(f"podman killed mid-run: exit {run.ret}, {message[:200]}")


def _answers(url: str) -> bool:
    try:
        with contextlib.closing(connect(timeout=5, engine=Engine("probe", url))):
            return True
    except Exception:
        return False


def _until(what: str, seconds: float, found: Callable[[], bool]) -> None:
    deadline = time.monotonic() + seconds
    while not found():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f}s"
        time.sleep(0.2)


# --- the cdi GPU mapping ---------------------------------------------------------------------------


def test_engine_refuses_what_it_cannot_carry() -> None:
    assert gpu.engine_refuses("gpus", "podman") is not None
    assert "podman #22645" in str(gpu.engine_refuses("gpus", "podman"))
    assert "needs Podman" in str(gpu.engine_refuses("cdi", "docker"))
    assert gpu.engine_refuses("seed", "podman") is None
    assert gpu.engine_refuses("cdi", "podman") is None
    assert gpu.engine_refuses("gpus", "docker") is None


@pytest.mark.usefixtures("as_root")
def test_cdi_mapping_end_to_end_on_podman(
    tmp_path: Path, fake_driver_lib: Path, podman_url: str, podman_client: docker.DockerClient
) -> None:
    """A CDI spec (``nvidia.com/gpu=all``) of the TEST DOUBLE host's device nodes and driver library,
    in /etc/cdi for this test only: a real Podman container created through the libpod API gets them,
    and the real GPU probe and checks count the fake GPUs."""
    prerequisite(not list(Path("/etc/cdi").glob("nvidia*")), "a real NVIDIA CDI spec is on this host")
    root = fake_host(tmp_path / "host", gpus=2, lib=fake_driver_lib)
    host = gpu.discover(root)
    nodes = "\n".join(f"        - path: {host.in_container(p)}\n          hostPath: {p}" for p in host.devices)
    mounts = "\n".join(
        f"    - hostPath: {p}\n      containerPath: {host.in_container(p)}\n      options: [ro, nosuid, nodev, bind]"
        for p in host.libraries
    )
    spec = Path("/etc/cdi") / f"paddle-verify-test-{uuid.uuid4().hex[:8]}.yaml"
    spec.parent.mkdir(exist_ok=True)
    spec.write_text(
        f'cdiVersion: "0.5.0"\nkind: nvidia.com/gpu\ndevices:\n  - name: all\n    containerEdits:\n'
        f"      deviceNodes:\n{nodes}\ncontainerEdits:\n  mounts:\n{mounts}\n"
    )
    session = Session(podman_client, url=podman_url)
    try:
        mapping = gpu.mapping(host, "cdi")
        assert mapping.create_kwargs == {"cdi_devices": ("nvidia.com/gpu=all",)}
        facts = gpu.gather(session, as_gpu_variant(), mapping, timeout=120)
    finally:
        session.close()
        spec.unlink()
    assert facts.error is None, facts.error
    variant = as_gpu_variant()
    check = gpu.GpuCheck(variant, host, "cdi", lambda: facts)
    gpu_checks.test_gpu_device_nodes_present(variant, check)
    gpu_checks.test_libcuda_counts_host_gpus(variant, check)
    assert facts.libcuda["count"] == 2, f"cdi: libcuda counted {facts.libcuda}"
    assert facts.libcuda["uuids"] == [fake_uuid(0), fake_uuid(1)]
    # The same mapping asked of Docker: the engine cannot, and the facts say so (no container is left).
    with contextlib.closing(connect()) as local:
        docker_session = Session(local)
        try:
            refused = gpu.gather(docker_session, variant, mapping, timeout=60)
        finally:
            docker_session.close()
        assert "need Podman's libpod API" in (refused.error or ""), f"docker: {refused.error}"
        assert leftovers(local, docker_session.id) == [], "docker: the refused cdi create left a container"
