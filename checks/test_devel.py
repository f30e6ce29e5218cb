"""Devel images (and demo ones) carry a working toolchain, Python headers and the source tree,
and build with them what the contract's builds list: a C and a C++ program, a Python C
extension, a paddle custom operator, a CUDA program (gpu), each compiled and run."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.facts.devel import failure
from paddle_verify.gpu import GpuCheck
from paddle_verify.manifest import Variant

pytestmark = pytest.mark.role("devel")


def test_tool_runs(variant: Variant, tool: str, facts: ImageFacts) -> None:
    run = facts.devel["toolchain"][tool]
    argv = " ".join(run["argv"])
    assert run["error"] is None, f"{variant.name}: devel tool {tool} missing: {run['error']}"
    assert run["rc"] == 0, f"{variant.name}: `{argv}` exited with {run['rc']}: {run['stderr'].strip()[-200:]!r}"


def test_python_headers(variant: Variant, facts: ImageFacts) -> None:
    headers = facts.devel["headers"]
    assert headers["python_h"], f"{variant.name}: no Python.h in {headers['include']} (python-dev missing)"


@pytest.mark.contract("devel.source_dirs")
def test_source_tree(variant: Variant, facts: ImageFacts) -> None:
    sources = facts.devel["sources"]
    good = [s for s in sources if s["exists"] and all(s["markers"].values()) and s["files"] > 0]
    found = {
        s["dir"]: ("absent" if not s["exists"] else f"{s['files']} files, markers {s['markers']}") for s in sources
    }
    assert good, f"{variant.name}: no source tree in any of {list(found)}: {found}"


# --- what a devel image must build (the contract's builds; inimage/devel.py) -------------------


def _built(variant: Variant, facts: ImageFacts, step: str) -> None:
    build = facts.devel_build(step)
    assert build["ok"], failure(variant.name, build)


@pytest.mark.devel_build("c")
def test_builds_c_program(variant: Variant, facts: ImageFacts) -> None:
    _built(variant, facts, "c")


@pytest.mark.devel_build("cxx")
def test_builds_cxx_program(variant: Variant, facts: ImageFacts) -> None:
    _built(variant, facts, "cxx")


@pytest.mark.devel_build("python_extension")
def test_builds_python_extension(variant: Variant, facts: ImageFacts) -> None:
    _built(variant, facts, "python_extension")


@pytest.mark.devel_build("custom_op")
def test_builds_paddle_custom_op(variant: Variant, facts: ImageFacts) -> None:
    _built(variant, facts, "custom_op")


@pytest.mark.devel_build("cuda")
def test_compiles_cuda_program(variant: Variant, facts: ImageFacts) -> None:
    """Compiled and linked with the contract's cuda_compiler: no GPU needed."""
    _built(variant, facts, "cuda")


@pytest.mark.devel_build("cuda")
@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
def test_cuda_program_runs_on_gpu(variant: Variant, gpu_check: GpuCheck) -> None:
    """Compiled again and run in the container with the host's GPUs (gpu_probe.py)."""
    assert gpu_check.host.found, gpu_check.no_gpu  # the run's one failure on a host without a GPU
    ran = gpu_check.facts.cuda_program
    assert ran["ok"], failure(variant.name, ran)
