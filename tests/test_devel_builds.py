"""The devel builds (``inimage/devel.py``) run by the probe on this host, and how a failure reads
(``facts/devel.py``): the unit tier, no engine. The images' builds are in test_broken_images.py."""

from __future__ import annotations

import shutil
import sysconfig
from pathlib import Path
from typing import Any

import pytest

from paddle_verify.facts.devel import compiler_error, devel_builds_config, failure
from paddle_verify.facts.schema import DevelBuild
from paddle_verify.gpu.facts import cuda_program_config
from paddle_verify.manifest import ManifestError, load, parse

from .test_probe import ROOT, base_config, run_probe

HAVE_CC = bool(shutil.which("gcc") and shutil.which("g++"))
HAVE_PYTHON_H = Path(sysconfig.get_paths()["include"], "Python.h").exists()
NO_STDIO = "x.c:1:10: fatal error: stdio.h: No such file or directory\ncompilation terminated.\n"


def builds(tmp_path: Path, steps: list[str], **compilers: str | bool) -> dict[str, Any]:
    cfg: dict[str, Any] = {"steps": steps, "timeout": 60, "cuda_run": False}
    cfg.update({"c_compiler": "gcc", "cxx_compiler": "g++", "cuda_compiler": None})
    cfg.update(compilers)
    facts = run_probe(base_config(tmp_path, "true\n", devel_builds=cfg), timeout=120)
    result: dict[str, Any] = facts["devel_builds"]
    return result


@pytest.mark.skipif(not (HAVE_CC and HAVE_PYTHON_H), reason="no gcc, g++ or Python.h on this host")
def test_c_cxx_and_python_extension_build_and_run_here(tmp_path: Path) -> None:
    found = builds(tmp_path, ["c", "cxx", "python_extension"])
    for step, expected in (("c", "pv-c 42"), ("cxx", "pv-cxx 55"), ("python_extension", "pv-ext 41")):
        assert found[step]["ok"], found[step]
        assert found[step]["got"] == expected
        assert found[step]["output"] == ""


def test_a_compiler_error_ends_the_step_and_is_kept(tmp_path: Path) -> None:
    fake = tmp_path / "broken-cc"
    fake.write_text(f"#!/bin/sh\nprintf '{NO_STDIO}' >&2\nexit 1\n")
    fake.chmod(0o755)
    c = builds(tmp_path, ["c"], c_compiler=str(fake))["c"]
    assert (c["ok"], c["phase"], c["rc"]) == (False, "compile", 1)
    message = failure("cpu-devel", c)
    assert message.startswith("cpu-devel: devel build c (a C program (stdio.h)) failed at compile: ")
    assert "fatal error: stdio.h: No such file or directory" in message
    assert not list(Path("/tmp").glob("pv-devel-*/pv_c.c")), "the sources were not removed"


def test_a_missing_compiler_is_named(tmp_path: Path) -> None:
    cuda = builds(tmp_path, ["cuda"], cuda_compiler="no-such-nvcc")["cuda"]
    assert not cuda["ok"]
    assert "no-such-nvcc is not on PATH" in failure("gpu-devel", cuda)


def test_a_cuda_program_that_cannot_run_fails(tmp_path: Path) -> None:
    """test_cuda_program_runs_on_gpu's failure: the program nvcc built cannot run (a fake nvcc that
    links a program which fails as a CUDA program does without a device)."""
    fake = tmp_path / "nvcc"
    program = "#!/bin/sh\necho 'pv-cuda error: no CUDA-capable device is detected'\nexit 1\n"
    fake.write_text(f'#!/bin/sh\n# nvcc -o OUT SRC\nprintf "{program}" > "$2" && chmod +x "$2"\n')
    fake.chmod(0o755)
    cuda = builds(tmp_path, ["cuda"], cuda_compiler=str(fake), cuda_run=True)["cuda"]
    assert (cuda["ok"], cuda["phase"], cuda["rc"]) == (False, "run", 1)
    message = failure("gpu-devel", cuda)
    assert message.startswith("gpu-devel: devel build cuda (a CUDA program) failed at run: `")
    assert "pv-cuda error: no CUDA-capable device is detected" in message


def test_wrong_output_is_a_failure() -> None:
    build: DevelBuild = {
        "step": "cxx",
        "ok": False,
        "phase": "run",
        "argv": ["/tmp/x/pv_cxx"],
        "rc": 0,
        "output": "",
        "expected": "pv-cxx 55",
        "got": "pv-cxx 54",
        "seconds": 0.1,
        "timed_out": False,
    }
    assert failure("cpu-devel", build) == (
        "cpu-devel: devel build cxx (a C++ program (iostream, vector)): `/tmp/x/pv_cxx` printed 'pv-cxx 54', "
        "expected 'pv-cxx 55'"
    )


def test_compiler_error_keeps_the_error_lines_and_the_last_ones() -> None:
    output = "\n".join([*(f"note {i}" for i in range(50)), "a.cc:3: error: 'x' was not declared", "end 1", "end 2"])
    assert compiler_error(output) == "a.cc:3: error: 'x' was not declared | note 49 | end 1 | end 2"


def test_reference_contracts_list_the_builds() -> None:
    cpu = load(ROOT / "variants" / "reference.toml").variants
    gpu = load(ROOT / "variants" / "reference-gpu.toml").variants
    assert cpu["cpu"].devel is None
    assert devel_builds_config(cpu["cpu"], 60) is None
    assert cpu["cpu-demo"].devel
    assert cpu["cpu-demo"].devel.builds == ("c", "cxx", "python_extension", "custom_op")
    config = devel_builds_config(gpu["gpu-devel"], 60, cuda_run=True)
    assert config is not None
    assert (config["steps"][-1], config["cuda_compiler"], config["cuda_run"]) == ("cuda", "nvcc", True)
    assert config["timeout"] == 180, "a build's phase has three times the exec deadline"


def test_the_gpu_probe_runs_the_cuda_program_of_gpu_devel_variants_only() -> None:
    cpu = load(ROOT / "variants" / "reference.toml").variants
    gpu = load(ROOT / "variants" / "reference-gpu.toml").variants
    assert cuda_program_config(cpu["cpu-devel"], 60) is None
    assert cuda_program_config(gpu["gpu"], 60) is None
    config = cuda_program_config(gpu["gpu-demo"], 60)
    assert config is not None
    assert (config["cuda_run"], config["timeout"]) == (True, 60), "bounded by the GPU probe's own wait"


MINIMAL: dict[str, Any] = {
    "suite": {"image": "x/y:{tag}-{variant}"},
    "variants": {"cpu": {"flavour": "cpu", "role": "devel"}},
}


@pytest.mark.parametrize(
    ("devel", "field", "words"),
    [
        ({"builds": ["c", "fortran"]}, "contract.devel.builds", "unknown build(s) ['fortran'] (known: c, cxx,"),
        ({"builds": ["c", "c"]}, "contract.devel.builds", "lists ['c'] more than once"),
        ({"builds": ["cuda"]}, "contract.devel.builds", "set cuda_compiler too"),
        ({"builds": ["c"], "cuda_compiler": "nvcc"}, "contract.devel.cuda_compiler", 'builds lacks "cuda"'),
        ({"builds": "c"}, "contract.devel.builds", "list of non-empty strings"),
        ({"c_compiler": ""}, "contract.devel.c_compiler", "non-empty string"),
    ],
)
def test_builds_problems_name_the_field(devel: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ManifestError) as err:
        parse({**MINIMAL, "contract": {"devel": devel}}, "m.toml")
    assert err.value.field == field
    assert words in str(err.value)


def test_builds_default_to_none_and_the_usual_compilers() -> None:
    devel = parse(MINIMAL, "m.toml").variants["cpu"].devel
    assert devel is not None
    assert (devel.builds, devel.c_compiler, devel.cxx_compiler, devel.cuda_compiler) == ((), "gcc", "g++", None)
