"""GPU variants without a GPU: discovery, mapping, the in-container checks and the no-GPU policy.

A **TEST DOUBLE** of an NVIDIA host is made under ``tmp_path`` (``fake_host``):
``proc/driver/nvidia``, ``dev/nvidia*`` (real character devices made with
``os.mknod``, with the major and minor of ``/dev/null``), ``usr/lib64/libcuda.so.1``
and ``libnvidia-ml.so.1`` (a fake driver library compiled from
``tests/doubles/nvidia/fake_nvidia.c``, whose GPU count is the number of
``/dev/nvidiaN`` it can open) and ``usr/bin/nvidia-smi`` (a shell script). The
discovery functions take that tree as their ``root``. A real container of the
reference cpu image, started with the seed mapping of the fake tree, then runs
the real GPU probe, and the real checks of ``checks/test_gpu.py`` judge it.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import stat
import subprocess
from collections.abc import Callable, Generator
from pathlib import Path

import docker
import pytest
from docker.types import DeviceRequest

from checks import test_gpu as gpu_checks
from paddle_verify import gpu
from paddle_verify.bench.agents import agent_env
from paddle_verify.bench.baremetal import bare_metal, default_cache, start_bare_agent
from paddle_verify.engine import Session
from paddle_verify.gpu.host import multiarch_dir
from paddle_verify.manifest import Variant, load

from .conftest import REFERENCE, ROOT, InnerRun, prerequisite, reference_image, run_suite

DOUBLES = ROOT / "tests" / "doubles" / "nvidia"


AS_ROOT = pytest.mark.usefixtures("as_root")


def fake_uuid(index: int) -> str:
    """The UUID the fake driver library and the fake nvidia-smi give GPU ``index``."""
    return f"GPU-f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdfe{index:02x}"


@pytest.fixture(scope="session")
def fake_driver_lib(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The TEST DOUBLE driver library, compiled once (libcuda and NVML entry points)."""
    prerequisite(shutil.which("gcc") is not None, "gcc is needed to compile the fake driver library")
    out = tmp_path_factory.mktemp("fake-driver") / "fake_nvidia.so"
    subprocess.run(
        ["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-o", str(out), str(DOUBLES / "fake_nvidia.c")], check=True
    )
    return out


def fake_host(
    root: Path,
    *,
    gpus: int = 2,
    nodes: bool = True,
    proc: bool = True,
    smi: bool = False,
    lib: Path | None = None,
    lib_dir: str = "usr/lib64",
    driver: str = "999.99.99-fake",
) -> Path:
    """A TEST DOUBLE of an NVIDIA host's tree under ``root``; ``lib``: the driver library to install."""
    dev = root / "dev"
    dev.mkdir(parents=True)
    names = [f"nvidia{i}" for i in range(gpus)] + ["nvidiactl", "nvidia-uvm"]
    for name in names:
        if nodes:
            os.mknod(dev / name, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # /dev/null's numbers: harmless
        else:
            (dev / name).write_text("not a device\n")
    if proc:
        base = root / "proc" / "driver" / "nvidia"
        for i in range(gpus):
            info = base / "gpus" / f"0000:{i + 1:02x}:00.0" / "information"
            info.parent.mkdir(parents=True)
            info.write_text(
                f"Model: \t\t Fake GPU (test double) {i}\nIRQ: \t\t 42\nGPU UUID: \t {fake_uuid(i)}\n"
                f"Device Minor: \t {i}\nBus Location: \t 0000:{i + 1:02x}:00.0\n"
            )
        (base / "version").write_text(f"NVRM version: NVIDIA UNIX x86_64 Kernel Module  {driver}  (test double)\n")
    libs = root / lib_dir
    libs.mkdir(parents=True, exist_ok=True)
    for name in ("libcuda.so.1", "libnvidia-ml.so.1"):
        if lib is not None:
            shutil.copy(lib, libs / name)
        else:
            (libs / name).write_text("not a library (test double)\n")
    (libs / "libcuda.so").symlink_to("libcuda.so.1")
    (libs / "libunrelated.so.1").write_text("not a driver library\n")
    if smi:
        (root / "usr" / "bin").mkdir(parents=True, exist_ok=True)
        shutil.copy(DOUBLES / "nvidia-smi", root / "usr" / "bin" / "nvidia-smi")
    return root


# --- discovery -----------------------------------------------------------------


@AS_ROOT
def test_discovery_reads_proc_driver_nvidia(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path))
    assert host.source == "/proc/driver/nvidia/gpus"
    assert [g.uuid for g in host.gpus] == [fake_uuid(0), fake_uuid(1)]
    assert [g.bus for g in host.gpus] == ["0000:01:00.0", "0000:02:00.0"]
    assert host.driver_version == "999.99.99-fake"
    assert [p.name for p in host.devices] == ["nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl"]
    assert host.gpu_nodes == ["/dev/nvidia0", "/dev/nvidia1", "/dev/nvidiactl"]
    assert sorted(p.name for p in host.libraries) == ["libcuda.so", "libcuda.so.1", "libnvidia-ml.so.1"]
    # The placeholder libnvidia-ml.so.1 does not load: NVML was tried, and said why it gave nothing.
    assert any(line.startswith("NVML (") for line in host.looked_at), host.looked_at


@AS_ROOT
def test_discovery_prefers_nvidia_smi(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=3, smi=True))
    assert host.source == "nvidia-smi -L"
    assert host.uuids == [fake_uuid(i) for i in range(3)]
    assert [g.name for g in host.gpus] == [f"Fake GPU (test double) {i}" for i in range(3)]


@AS_ROOT
def test_discovery_through_nvml(tmp_path: Path, fake_driver_lib: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = fake_host(tmp_path, proc=False, lib=fake_driver_lib)
    monkeypatch.setenv("PADDLE_VERIFY_FAKE_DEV", str(root / "dev"))  # where the fake library counts GPUs
    host = gpu.discover(root)
    assert host.source == "NVML", host.looked_at
    assert host.uuids == [fake_uuid(0), fake_uuid(1)]
    assert host.driver_version == "999.99.99-fake"


@AS_ROOT
def test_discovery_falls_back_to_device_nodes(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=4, proc=False))
    assert host.source == "/dev/nvidiaN"
    assert [g.index for g in host.gpus] == [0, 1, 2, 3]


def test_no_gpu_says_where_it_looked(tmp_path: Path) -> None:
    root = fake_host(tmp_path, nodes=False, proc=False)
    host = gpu.discover(root)
    assert not host.found
    message = host.absence()
    assert message.startswith("no NVIDIA GPU on this host: looked at ")
    assert f"{root}/dev/nvidia*: none (not character devices, ignored: nvidia-uvm, nvidia0, nvidia1, nvidiactl)" in (
        message
    )
    assert "nvidia-smi -L: no nvidia-smi on PATH" in message
    assert f"{root}/proc/driver/nvidia/gpus: absent" in message
    assert f"{root}/usr/lib64, {root}/{multiarch_dir()}: 3 driver librar(ies)" in message


@AS_ROOT
def test_driver_lib_dir_is_searched(tmp_path: Path) -> None:
    root = fake_host(tmp_path / "host", lib_dir="opt/driver")
    assert gpu.discover(root).libraries == ()
    found = gpu.discover(root, lib_dirs=[root / "opt" / "driver"]).libraries
    assert sorted(p.name for p in found) == ["libcuda.so", "libcuda.so.1", "libnvidia-ml.so.1"]


# --- mapping -------------------------------------------------------------------


@AS_ROOT
def test_seed_mapping_mounts_every_library_and_device_at_its_own_path(tmp_path: Path) -> None:
    host = gpu.discover(fake_host(tmp_path))
    m = gpu.mapping(host, "seed")
    assert m.mode == "seed"
    assert m.create_kwargs["devices"] == [
        f"{tmp_path}/dev/{name}:/dev/{name}:rwm" for name in ("nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl")
    ]
    assert sorted(m.create_kwargs["volumes"]) == sorted(
        f"{tmp_path}/usr/lib64/{name}:/usr/lib64/{name}:ro"
        for name in ("libcuda.so", "libcuda.so.1", "libnvidia-ml.so.1")
    )
    assert m.libcuda_paths == ("/usr/lib64/libcuda.so.1", "/usr/lib64/libcuda.so")
    assert "device_requests" not in m.create_kwargs


@AS_ROOT
def test_gpus_mapping_is_one_device_request_for_all_gpus(tmp_path: Path, docker_client: docker.DockerClient) -> None:
    m = gpu.mapping(gpu.discover(fake_host(tmp_path)), "gpus")
    assert m.create_kwargs == {"device_requests": [DeviceRequest(count=-1, capabilities=[["gpu"]])]}
    # What docker-py sends to the engine for it (nothing is started: no NVIDIA runtime here).
    host_config = docker_client.api.create_host_config(**m.create_kwargs)
    assert host_config["DeviceRequests"] == [
        {"Driver": "", "Count": -1, "DeviceIDs": [], "Capabilities": [["gpu"]], "Options": {}}
    ]
    assert "Devices" not in host_config
    assert "Binds" not in host_config


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown GPU mapping mode 'nvidia' \\(valid: seed, gpus, cdi\\)"):
        gpu.mapping(gpu.discover(tmp_path), "nvidia")


# --- end to end: a real container, the seed mapping of the fake tree ---------------


def as_gpu_variant() -> Variant:
    """The reference cpu image, checked as a gpu variant (it has paddle, but no CUDA build)."""
    cpu = load(REFERENCE).variants["cpu"]
    return dataclasses.replace(cpu, name="gpu", flavour="gpu").with_image(reference_image("cpu"))


@pytest.fixture
def session(docker_client: docker.DockerClient) -> Generator[Callable[[], Session], None, None]:
    made: list[Session] = []

    def make() -> Session:
        made.append(Session(docker_client))
        return made[-1]

    yield make
    for s in made:
        s.close()


@AS_ROOT
def test_seed_mapping_end_to_end_libcuda_counts_the_fake_gpus(
    tmp_path: Path,
    fake_driver_lib: Path,
    reference_images: dict[str, str],
    session: Callable[[], Session],
) -> None:
    variant = as_gpu_variant()
    host = gpu.discover(fake_host(tmp_path, gpus=2, lib=fake_driver_lib))
    assert host.count == 2
    facts = gpu.gather(session(), variant, gpu.mapping(host, "seed"), timeout=60)
    assert facts.error is None, facts.error
    assert facts.execs == 1
    check = gpu.GpuCheck(variant, host, "seed", lambda: facts)
    # The suite's own checks, on the facts of the real container.
    gpu_checks.test_gpu_device_nodes_present(variant, check)
    gpu_checks.test_libcuda_counts_host_gpus(variant, check)
    assert facts.libcuda["count"] == 2
    assert facts.libcuda["loaded"] == "/usr/lib64/libcuda.so.1", "Debian does not search /usr/lib64: loaded by path"
    assert facts.libcuda["uuids"] == host.uuids
    nodes = {n["path"]: (n["kind"], n["major"], n["minor"]) for n in facts.device_nodes if n["kind"] == "char"}
    assert nodes == {f"/dev/{n}": ("char", 1, 3) for n in ("nvidia-uvm", "nvidia0", "nvidia1", "nvidiactl")}
    # paddle ran in the same exec; the cpu build sees no GPU, so the paddle checks fail, naming it.
    assert facts.paddle["compiled_with_cuda"] is False
    with pytest.raises(AssertionError, match=r"^gpu: paddle \(paddle.device.cuda.device_count\(\)\) sees 0 GPU"):
        gpu_checks.test_paddle_sees_host_gpus(variant, check)
    # nvidia-smi: the seed mapping mounts only libraries, and the image has none.
    assert facts.nvidia_smi is None


@AS_ROOT
def test_seed_mapping_missing_a_device_fails_the_checks(
    tmp_path: Path,
    fake_driver_lib: Path,
    reference_images: dict[str, str],
    session: Callable[[], Session],
) -> None:
    variant = as_gpu_variant()
    host = gpu.discover(fake_host(tmp_path, gpus=2, lib=fake_driver_lib))
    full = gpu.mapping(host, "seed")
    devices = [d for d in full.create_kwargs["devices"] if "/dev/nvidia1:" not in d]
    broken = dataclasses.replace(full, create_kwargs={**full.create_kwargs, "devices": devices})
    facts = gpu.gather(session(), variant, broken, timeout=60)
    check = gpu.GpuCheck(variant, host, "seed", lambda: facts)
    with pytest.raises(AssertionError, match=r"^gpu: the container .* lacks the device node\(s\) \['/dev/nvidia1'\]"):
        gpu_checks.test_gpu_device_nodes_present(variant, check)
    with pytest.raises(AssertionError, match=r"^gpu: libcuda \(/usr/lib64/libcuda.so.1\) counts 1 GPU\(s\) .* has 2"):
        gpu_checks.test_libcuda_counts_host_gpus(variant, check)


@AS_ROOT
def test_cpu_container_sees_no_gpu_check_fails_when_a_gpu_leaks_in(
    tmp_path: Path,
    fake_driver_lib: Path,
    reference_images: dict[str, str],
    session: Callable[[], Session],
) -> None:
    cpu = load(REFERENCE).variants["cpu"]
    host = gpu.discover(fake_host(tmp_path, gpus=1, lib=fake_driver_lib))
    leaked = gpu.gather(session(), cpu, gpu.mapping(host, "seed"), timeout=60)
    with pytest.raises(AssertionError, match=r"^cpu: a container started the default way should see no GPU, it sees"):
        gpu_checks.test_cpu_variant_sees_no_gpu(cpu, lambda _v: leaked)


# --- the policy and the options, through inner runs ---------------------------------


def gpu_manifest(path: Path) -> Path:
    """The reference contract, with gpu variants that point at the reference cpu images."""
    text = REFERENCE.read_text()
    text = text[: text.index("[variants.")]
    text += '\n[variants.cpu]\nflavour = "cpu"\nrole = "runtime"\n'
    for name, image in (("gpu", "cpu"), ("gpu-devel", "cpu-devel")):
        role = "devel" if "devel" in name else "runtime"
        text += f'\n[variants.{name}]\nflavour = "gpu"\nrole = "{role}"\nimage = "{reference_image(image)}"\n'
    path.write_text(text)
    return path


NO_GPU_HERE = pytest.mark.skipif(gpu.discover().found, reason="this host has an NVIDIA GPU")


@NO_GPU_HERE
def test_gpu_variant_on_host_without_gpu_fails_once(
    reference_images: dict[str, str], run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    manifest = gpu_manifest(tmp_path / "gpu.toml")
    run = run_checks("--manifest", str(manifest), "--variant", "all", "-k", "test_gpu or test_version or test_packages")
    assert run.ret == 1, run.stdout[-3000:]
    assert run.summary is not None
    rows = run.summary["results"]
    no_gpu = [r for r in rows if "no NVIDIA GPU on this host" in r["message"] and r["outcome"] == "failed"]
    assert [r["check"] for r in no_gpu] == ["test_host_has_nvidia_gpu"], no_gpu
    assert no_gpu[0]["message"].startswith("AssertionError: gpu, gpu-devel: no NVIDIA GPU on this host: looked at ")
    assert "/dev/nvidia*: none" in no_gpu[0]["message"]
    # Every other GPU-device check of the gpu variants: not run, and says why.
    others = [r for r in rows if r["nodeid"].startswith("checks/test_gpu.py") and r["variant"] != "cpu"]
    others = [r for r in others if r is not no_gpu[0]]
    assert len(others) == 2 * 6 - 1
    assert all(r["outcome"] == "skipped" for r in others), others
    assert all(
        "not run: no NVIDIA GPU on this host (reported once, by test_host_has_nvidia_gpu[gpu])" in r["message"]
        for r in others
    )
    # The image-level checks of gpu variants ran as usual; the cpu images say with_gpu OFF, which test_version reports.
    outcomes = run.outcomes()
    assert outcomes["test_paddle_version_exits_0_offline[gpu-devel]"] == "passed"
    assert outcomes["test_package_imports[gpu-paddle]"] == "passed"
    assert outcomes["test_cpu_variant_sees_no_gpu[cpu]"] == "passed"
    assert run.failed() == {
        "test_host_has_nvidia_gpu[gpu]",
        "test_with_gpu_matches_flavour[gpu]",
        "test_with_gpu_matches_flavour[gpu-devel]",
    }
    assert "paddle-verify gpu: mapping seed; host: no NVIDIA GPU on this host" in run.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--gpu-mode", "nvidia"], "'nvidia' is not a GPU mapping mode (valid: seed, gpus, cdi)"),
        (["--driver-lib-dir", "/no/such/dir"], "'/no/such/dir' is not an absolute path of an existing directory"),
        (["--driver-lib-dir", "relative"], "'relative' is not an absolute path of an existing directory"),
    ],
)
def test_bad_gpu_option_is_a_usage_error(args: list[str], words: str, run_checks: Callable[..., InnerRun]) -> None:
    run = run_checks("--manifest", str(REFERENCE), "--collect-only", *args)
    assert run.ret == 4, run.stdout[-2000:] + run.stderr[-2000:]
    assert words in run.stderr + run.stdout


@NO_GPU_HERE
def test_gpu_benchmark_skips_with_its_reason(tmp_path: Path) -> None:
    manifest = gpu_manifest(tmp_path / "gpu.toml")
    run = run_suite(
        tmp_path, "--manifest", str(manifest), "--variant", "gpu", "-rs",
        target=ROOT / "benchmarks" / "test_gpu.py", timeout=120,
    )  # fmt: skip
    out = run.stdout
    assert run.ret == 0, f"exit {run.ret}:\n{out[-3000:]}\n{run.stderr[-2000:]}"
    outcomes = run.outcomes()
    assert "skipped" in outcomes.values(), out[-2000:]
    assert set(outcomes.values()) == {"skipped"}, out[-2000:]
    assert "gpu: no NVIDIA GPU on this host: looked at " in out


@AS_ROOT
def test_gpu_benchmark_bare_metal_side_gets_the_driver_libraries(
    tmp_path: Path,
    fake_driver_lib: Path,
    reference_images: dict[str, str],
    session: Callable[[], Session],
) -> None:
    """The GPU benchmark's bare-metal side: the image's own files plus the host's driver libraries."""
    host = gpu.discover(fake_host(tmp_path, gpus=1, lib=fake_driver_lib))
    bare = bare_metal(session(), reference_images["cpu"], default_cache(), variant="cpu")
    binds = [(str(p), host.in_container(p)) for p in host.libraries]
    agent = start_bare_agent(bare, "python3", "agent.py", [], agent_env({"LD_LIBRARY_PATH": "/usr/lib64"}), binds=binds)
    try:
        ctx = agent.request({"op": "context"}, 60)
    finally:
        agent.close()
    assert ctx["libcuda"] == ["/usr/lib64/libcuda.so", "/usr/lib64/libcuda.so.1"]
    assert bare.rootfs is not None
    assert not (bare.rootfs / "usr" / "lib64" / "libcuda.so.1").exists(), "the shared exported tree was written to"
