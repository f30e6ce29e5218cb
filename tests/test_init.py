"""``paddle-verify init`` against the real reference image: what it writes for cpu-devel passes
``pytest checks/`` on that image and fails, naming cmake, on the same image with cmake removed;
a missing image is one line and exit 4, with nothing written and nothing left on the engine."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import docker
import pytest

from paddle_verify.engine import LABEL_RUN
from paddle_verify.manifest import load

from .conftest import REFERENCE_GPU, ImageFactory, InnerRun, reference_image, run_suite

# Each command's deadline: on this shared 2-core machine `paddle version` alone took 30 s under load.
TIMEOUT = "300"


def init(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``paddle-verify init ARGS`` in a subprocess, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-c", "import sys; from paddle_verify.cli import main; sys.exit(main())", "init", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def labelled(client: docker.DockerClient, run_label: str) -> list[str]:
    return [c.name or "" for c in client.containers.list(all=True, filters={"label": f"{LABEL_RUN}={run_label}"})]


def gate(cwd: Path, manifest: Path, image: str) -> InnerRun:
    cwd.mkdir()
    args = ("--manifest", str(manifest), "--variant", "cpu-devel", "--image", f"cpu-devel={image}")
    return run_suite(cwd, *args, "--exec-timeout", TIMEOUT, timeout=1200)


@pytest.fixture(scope="module")
def written(
    reference_images: dict[str, str], docker_client: docker.DockerClient, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The manifest init writes for the cpu-devel reference image (nothing of init's left behind)."""
    cwd = tmp_path_factory.mktemp("init")
    run_label = f"init-{uuid.uuid4().hex[:8]}"
    ref = reference_images["cpu-devel"]
    proc = init(cwd, "--image", ref, "--variant", "cpu-devel", "--role", "devel", "-o", "ours.toml",
                "--exec-timeout", TIMEOUT, "--run-label", run_label)  # fmt: skip
    assert proc.returncode == 0, f"cpu-devel: init exited with {proc.returncode}: {proc.stderr[-2000:]}"
    assert labelled(docker_client, run_label) == [], "cpu-devel: init left containers behind"
    return cwd / "ours.toml"


def test_init_writes_a_commented_manifest_the_loader_reads(written: Path) -> None:
    text = written.read_text(encoding="utf-8")
    variant = load(written).variants["cpu-devel"]
    assert variant.image == reference_image("cpu-devel"), f"cpu-devel: init wrote image {variant.image}"
    assert (variant.role, variant.flavour, variant.tag) == ("devel", "cpu", "3.3.1"), variant
    assert variant.devel is not None
    assert {"gcc", "g++", "cmake", "make", "swig"} <= set(variant.devel.toolchain)
    assert set(variant.runtime.packages) == {"paddle", "paddle.inference", "numpy"}, variant.runtime.packages
    assert "with_gpu" in variant.runtime.build_lines
    assert variant.devel.source_dirs == ("/paddle",)
    # where each value came from, and what was looked for and not kept
    assert "cmake: cmake version " in text, text
    assert "paddle.fluid (ModuleNotFoundError" in text, text


def test_what_init_writes_passes_against_the_image(written: Path, tmp_path: Path) -> None:
    run = gate(tmp_path / "good", written, reference_image("cpu-devel"))
    assert run.ret == 0, f"cpu-devel: the manifest init wrote fails its own image:\n{run.stdout[-4000:]}"
    assert run.failed() == set(), run.failed()
    assert run.outcomes()["test_tool_runs[cpu-devel-cmake]"] == "passed"


def test_with_cmake_removed_the_same_manifest_fails_naming_cmake(
    written: Path, tmp_path: Path, build_image: ImageFactory
) -> None:
    broken = build_image("init-no-cmake", f"FROM {reference_image('cpu-devel')}\nRUN rm -f /usr/bin/cmake\n")
    run = gate(tmp_path / "bad", written, broken)
    assert run.ret == 1, f"cpu-devel without cmake: exit {run.ret}:\n{run.stdout[-4000:]}"
    assert run.failed() == {"test_tool_runs[cpu-devel-cmake]"}, run.failed()
    message = run.messages()["test_tool_runs[cpu-devel-cmake]"]
    assert "cpu-devel: devel tool cmake missing" in message, message


def test_a_missing_image_is_one_line_exit_4_and_nothing_left(
    docker_client: docker.DockerClient, tmp_path: Path
) -> None:
    run_label = f"init-{uuid.uuid4().hex[:8]}"
    absent = f"paddle-verify-test/absent:{run_label}"
    proc = init(tmp_path, "--image", absent, "--variant", "mine", "-o", "out.toml", "--run-label", run_label)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 4, f"init on a missing image exited with {proc.returncode}: {proc.stderr}"
    assert len(lines) == 1, proc.stderr
    assert f"image {absent} is not present" in lines[0], proc.stderr
    assert not (tmp_path / "out.toml").exists(), "init wrote a manifest for a missing image"
    assert labelled(docker_client, run_label) == []


def test_a_gpu_image_s_manifest_keeps_its_cuda_and_passes(gpu_reference_images: dict[str, str], tmp_path: Path) -> None:
    """The flavour from `with_gpu: ON`, the CUDA libraries that load and the runtime found among
    candidates (the probe's discovery option); the gate passes it (no GPU here: --allow-no-gpu)."""
    ref = gpu_reference_images["gpu"]
    proc = init(tmp_path, "--image", ref, "--variant", "gpu", "-o", "gpu.toml", "--exec-timeout", TIMEOUT)
    assert proc.returncode == 0, f"gpu: init exited with {proc.returncode}: {proc.stderr[-2000:]}"
    variant = load(tmp_path / "gpu.toml").variants["gpu"]
    reference = load(REFERENCE_GPU).variants["gpu"].runtime
    assert variant.flavour == "gpu", f"gpu: init wrote flavour {variant.flavour}"
    assert variant.runtime.cuda_runtime == reference.cuda_runtime, variant.runtime.cuda_runtime
    assert set(reference.cuda_libraries) <= set(variant.runtime.cuda_libraries), variant.runtime.cuda_libraries
    (tmp_path / "gate").mkdir()
    args = ("--manifest", str(tmp_path / "gpu.toml"), "--variant", "gpu", "--allow-no-gpu", "-m", "not ssh")
    run = run_suite(tmp_path / "gate", *args, "--exec-timeout", TIMEOUT, timeout=1200)
    assert run.ret == 0, f"gpu: the manifest init wrote fails its own image:\n{run.stdout[-4000:]}"
    assert run.outcomes()["test_paddle_built_with_the_image_cuda[gpu]"] == "passed"


def test_an_unreachable_engine_is_one_line_exit_4(tmp_path: Path) -> None:
    sock = tmp_path / "no-engine.sock"
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from paddle_verify.cli import main; sys.exit(main())", "init",
         "--image", "x:y", "--variant", "mine"],
        env={**os.environ, "DOCKER_HOST": f"unix://{sock}"}, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 4, f"init with no engine exited with {proc.returncode}: {proc.stderr}"
    assert (
        proc.stderr.strip()
        == f"paddle-verify init: Docker daemon unreachable at unix://{sock}: No such file or directory"
    )
