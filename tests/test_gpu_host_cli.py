"""``paddle-verify host`` (cli/host.py, gpu/readiness.py): a GPU host's readiness without an engine.

Run through the real command (``main(argv)``, or the installed ``paddle-verify`` in a subprocess)
on this GPU-less machine and on the fake NVIDIA host trees of ``test_gpu.py`` (TEST DOUBLES: fake
``/dev/nvidia*``, ``/proc/driver/nvidia``, ``nvidia-smi`` and a fake libcuda compiled from
``tests/doubles/nvidia/fake_nvidia.c``), each defect named in the report.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from paddle_verify.cli import main
from paddle_verify.exits import EXIT_HOST
from paddle_verify.manifest import ManifestError, load

from .conftest import REFERENCE_GPU, ROOT, InnerRun
from .test_gpu import AS_ROOT, NO_GPU_HERE, fake_driver_lib, fake_host, fake_uuid, gpu_manifest

__all__ = ["fake_driver_lib"]  # a fixture of test_gpu.py, used here


def manifest(path: Path, **cudas: str | None) -> Path:
    """A manifest whose gpu variants declare these CUDA versions (None: not declared)."""
    text = '[suite]\nimage = "paddle-verify/none:{tag}-{variant}"\n'
    for name, cuda in cudas.items():
        text += f'\n[variants.{name}]\nflavour = "gpu"\nrole = "runtime"\n' + (f'cuda = "{cuda}"\n' if cuda else "")
    path.write_text(text)
    return path


@pytest.fixture
def host_cli(
    tmp_path: Path, fake_driver_lib: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, Path]]:
    """``host_cli(*args, driver=..., smi=..., lib=...)``: ``paddle-verify host --root TREE ARGS`` on a
    fresh fake host tree (two GPUs); returns (exit status, stdout, tree)."""

    def run(*args: str, driver: str = "535.104.05", smi: bool = True, lib: bool = True) -> tuple[int, str, Path]:
        root = fake_host(tmp_path / "host", smi=smi, lib=fake_driver_lib if lib else None, driver=driver)
        monkeypatch.setenv("PADDLE_VERIFY_FAKE_DEV", str(root / "dev"))  # where the fake libcuda counts GPUs
        status = main(["host", "--root", str(root), *[a.replace("{root}", str(root)) for a in args]])
        return status, capsys.readouterr().out, root

    return run


@NO_GPU_HERE
def test_gpu_less_host_exits_8_and_says_where_it_looked() -> None:
    exe = Path(sys.executable).with_name("paddle-verify")
    proc = subprocess.run(
        [str(exe), "host", "--manifest", str(REFERENCE_GPU)], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == EXIT_HOST == 8, proc.stdout + proc.stderr
    out = proc.stdout
    assert "  - no NVIDIA GPU on this host: looked at /dev/nvidia*: none" in out, out
    assert "nvidia-smi -L: no nvidia-smi on PATH" in out, out
    assert "/proc/driver/nvidia/gpus: absent" in out, out
    assert "  - libcuda missing: no libcuda loads (tried: libcuda.so.1: " in out, out
    undeclared = (
        "paddle-verify host: gpu: CUDA not declared in the manifest: driver fit judged when the image is checked"
    )
    assert undeclared in out, out


@AS_ROOT
def test_driver_535_runs_cuda_11_and_12_not_13(host_cli: Callable[..., tuple[int, str, Path]], tmp_path: Path) -> None:
    m = manifest(tmp_path / "m.toml", cu118="11.8", cu126="12.6", cu130="13.0", old=None)
    status, out, root = host_cli("--manifest", str(m))
    assert status == EXIT_HOST, out
    assert f"paddle-verify host: GPUs: 2 from nvidia-smi -L (0: Fake GPU (test double) 0 {fake_uuid(0)};" in out
    assert "paddle-verify host: driver: 535.104.05\n" in out
    assert f"paddle-verify host: device nodes: {root}/dev/nvidia-uvm, {root}/dev/nvidia0," in out
    assert f"libcuda ({root}/usr/lib64/libcuda.so.1): cuInit 0, 2 GPU(s) ({fake_uuid(0)}, {fake_uuid(1)})" in out
    assert "paddle-verify host: cu118 (CUDA 11.8): ready (driver 535.104.05 >= 450.80.02)" in out
    assert "paddle-verify host: cu126 (CUDA 12.6): ready (driver 535.104.05 >= 525.60.13)" in out
    assert "paddle-verify host: old: CUDA not declared in the manifest" in out
    reasons = [line for line in out.splitlines() if line.startswith("  - ")]
    assert reasons == [
        "  - cu130: the image's CUDA runtime is 13.0, the host's driver 535.104.05 is older than 580.00, "
        "the minimum for CUDA 13.x"
    ], out


@AS_ROOT
def test_ready_for_every_gpu_variant_exits_0(host_cli: Callable[..., tuple[int, str, Path]], tmp_path: Path) -> None:
    status, out, _ = host_cli("--manifest", str(manifest(tmp_path / "m.toml", cu118="11.8", cu126="12.6")))
    assert status == 0, out
    assert out.splitlines()[-1] == "paddle-verify host: READY"


@AS_ROOT
def test_driver_too_old_for_cuda_12_6(host_cli: Callable[..., tuple[int, str, Path]], tmp_path: Path) -> None:
    status, out, _ = host_cli("--manifest", str(manifest(tmp_path / "m.toml", gpu="12.6")), driver="520.61.05")
    assert status == EXIT_HOST, out
    assert "  - gpu: the image's CUDA runtime is 12.6, the host's driver 520.61.05 is older than 525.60.13, " in out


@AS_ROOT
def test_libcuda_that_does_not_load(host_cli: Callable[..., tuple[int, str, Path]]) -> None:
    status, out, root = host_cli(lib=False)  # a placeholder file, no library: the loader's own words
    assert status == EXIT_HOST, out
    assert f"  - libcuda missing: no libcuda loads (tried: {root}/usr/lib64/libcuda.so.1: " in out, out


@AS_ROOT
def test_no_libcuda_file_at_all(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = fake_host(tmp_path / "host", smi=True)
    for lib in (root / "usr" / "lib64").glob("libcuda.so*"):
        lib.unlink()
    assert main(["host", "--root", str(root)]) == EXIT_HOST
    out = capsys.readouterr().out
    assert "  - libcuda missing: no libcuda loads (tried: no libcuda.so* among the driver libraries)" in out, out
    assert not any("no NVIDIA GPU" in line for line in out.splitlines()), out  # the GPUs are there


@AS_ROOT
def test_uuid_mismatch_between_libcuda_and_nvidia_smi(
    host_cli: Callable[..., tuple[int, str, Path]], capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, root = host_cli()
    assert status == 0, out  # the doubles agree: the same UUIDs from libcuda and nvidia-smi
    smi = root / "usr" / "bin" / "nvidia-smi"
    smi.write_text(smi.read_text().replace("fafbfcfdfe%02x", "fafbfcfdee%02x"))  # another host's GPUs
    assert main(["host", "--root", str(root)]) == EXIT_HOST
    out = capsys.readouterr().out
    other = ", ".join(f"GPU-f0f1f2f3-f4f5-f6f7-f8f9-fafbfcfdee{i:02x}" for i in range(2))
    reason = f"  - UUID mismatch between libcuda ({fake_uuid(0)}, {fake_uuid(1)}) and nvidia-smi -L ({other})"
    assert reason in out.splitlines(), out


@AS_ROOT
def test_libcuda_counts_fewer_gpus_than_nvidia_smi(
    host_cli: Callable[..., tuple[int, str, Path]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status, out, root = host_cli()
    assert status == 0, out
    one = tmp_path / "one-node"  # the fake libcuda opens only GPU 0's node
    one.mkdir()
    os.mknod(one / "nvidia0", stat.S_IFCHR | 0o666, os.makedev(1, 3))
    monkeypatch.setenv("PADDLE_VERIFY_FAKE_DEV", str(one))
    assert main(["host", "--root", str(root)]) == EXIT_HOST
    reasons = [line for line in capsys.readouterr().out.splitlines() if line.startswith("  - ")]
    assert reasons == [
        "  - GPU count mismatch: libcuda counts 1, nvidia-smi -L 2",
        f"  - UUID mismatch between libcuda ({fake_uuid(0)}) and nvidia-smi -L ({fake_uuid(0)}, {fake_uuid(1)})",
    ], reasons


@NO_GPU_HERE
def test_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    """What scripts/gpu-host-check.sh relies on: the package on PYTHONPATH, no site-packages."""
    code = (
        "import sys; from paddle_verify.cli import main; rc = main(sys.argv[1:]); "
        "print('third-party:', sorted({m.split('.')[0] for m in sys.modules} & {'docker', 'pytest', 'requests'}))"
    )
    python = "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT)}
    argv = [python, "-S", "-c", code, "host", "--manifest", str(manifest(tmp_path / "m.toml", gpu="12.6"))]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120, check=False)
    assert "third-party: []" in proc.stdout, proc.stdout + proc.stderr
    assert "paddle-verify host: gpu (CUDA 12.6): NOT READY: no NVIDIA GPU on this host" in proc.stdout


@NO_GPU_HERE
def test_prepared_gpu_host_script_runs_here_within_its_budget(tmp_path: Path) -> None:
    """scripts/gpu-host-check.sh, written for a lent GPU machine, run here: every step, well within 5 minutes."""
    start = time.monotonic()
    env = {**os.environ, "OUT": str(tmp_path)}
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "gpu-host-check.sh")], capture_output=True, text=True, env=env, timeout=300
    )
    seconds = time.monotonic() - start
    report = (tmp_path / "gpu-host-check.txt").read_text()
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert seconds < 120, f"the script took {seconds:.0f}s here; the device call allows 300"
    assert "### paddle-verify host --manifest (three gpu variants: CUDA 11.8, 12.6, 13.0)" in report
    assert "paddle-verify host: cuda-13-0 (CUDA 13.0): NOT READY: no NVIDIA GPU on this host" in report, report
    assert report.count("exit status: 8") == 2, report  # both host runs: no GPU here
    assert '"libcuda_files": []' in report, report  # the probe's JSON


@pytest.mark.parametrize(
    ("cuda", "problem"), [("12", "'12'"), ("12.x", "'12.x'"), ("v12.6", "'v12.6'")]
)  # fmt: skip
def test_declared_cuda_must_be_major_minor(tmp_path: Path, cuda: str, problem: str) -> None:
    path = manifest(tmp_path / "m.toml", gpu=cuda)
    with pytest.raises(ManifestError, match=rf"variants\.gpu\.cuda: must be MAJOR\.MINOR .*not {problem}"):
        load(path)
    assert main(["host", "--manifest", str(path)]) == 4
    assert load(manifest(tmp_path / "ok.toml", gpu="12.6")).variants["gpu"].carries.cuda == "12.6"


def test_gate_header_has_the_host_report(run_checks: Callable[..., InnerRun], tmp_path: Path) -> None:
    run = run_checks("--manifest", str(gpu_manifest(tmp_path / "gpu.toml")), "--variant", "all", "--collect-only")
    header = [line for line in run.stdout.splitlines() if line.startswith("paddle-verify host: ")]
    assert header, run.stdout[-3000:]
    assert header[0].startswith("paddle-verify host: GPUs: "), header
    assert "paddle-verify host: gpu: CUDA not declared in the manifest" in run.stdout, run.stdout[-3000:]
