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


FAKE_PADDLE = {  # paddle's API as the custom op step uses it; load() "builds" the op (or fails as told)
    "paddle/__init__.py": (
        "import os\n"
        "with open(os.environ['PV_IMPORT_LOG'], 'a') as fh: fh.write('imported\\n')\n"
        "from . import utils\n"
        "mode = {'static': False}\n"
        "def in_dynamic_mode(): return not mode['static']\n"
        "def enable_static(): mode['static'] = True\n"
        "def disable_static(): mode['static'] = False\n"
        "class Tensor:\n"
        "    def __init__(self, v): self.v = v\n"
        "    def numpy(self): return self\n"
        "    def tolist(self): return self.v\n"
        "def to_tensor(v, dtype=None):\n"
        "    if mode['static']: raise RuntimeError('to_tensor in static mode')\n"
        "    return Tensor(v)\n"
    ),
    "paddle/utils/__init__.py": (
        "import os\n"
        "from . import cpp_extension\n"
        "def run_check():\n"
        "    if os.environ.get('PV_FAKE_RUN_CHECK_CRASH'):\n"
        "        os._exit(134)  # as a crash in paddle's C++ ends the interpreter: no Python cleanup\n"
        "    import paddle\n"
        "    paddle.enable_static()  # as paddle's own does, and it stays so when its static run raises\n"
        "    if os.environ.get('PV_FAKE_RUN_CHECK_FAILS'):\n"
        "        print('PaddlePaddle is installed successfully ONLY for single GPU!')\n"
        "        return\n"
        "    paddle.disable_static()\n"
        "    print('PaddlePaddle works well on 1 CPU.')\n"
    ),
    "paddle/utils/cpp_extension.py": (
        "import os\n"
        "def load(name, sources, build_directory, extra_cxx_cflags, verbose):\n"
        "    print('g++ -c ' + sources[0])\n"
        "    if os.environ.get('PV_FAKE_BUILD_ERROR'):\n"
        "        print('pv_op.cc:1:10: fatal error: paddle/extension.h: No such file or directory')\n"
        "        raise RuntimeError('Failed to compile the custom op')\n"
        "    class Op:\n"
        "        def pv_scale_add(self, x):\n"
        "            import paddle\n"
        "            return paddle.to_tensor([2 * v + 1 for v in x.v])\n"
        "    return Op()\n"
    ),
}


def custom_op_probe(tmp_path: Path, *, run_check: bool = False, **env: str) -> dict[str, Any]:
    """The probe with the custom op step, a fake paddle on its path: the op is built in the imports' interpreter."""
    for rel, text in FAKE_PADDLE.items():
        (tmp_path / "site" / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "site" / rel).write_text(text)
    cfg: dict[str, Any] = {"steps": ["custom_op"], "timeout": 60, "cuda_run": False}
    cfg.update({"c_compiler": "gcc", "cxx_compiler": "g++", "cuda_compiler": None})
    probe = base_config(
        tmp_path, "true\n", devel_builds=cfg, packages=["paddle", "no_such_module_here"], run_check=run_check
    )
    probe["env"].update({"PYTHONPATH": str(tmp_path / "site"), "PV_IMPORT_LOG": str(tmp_path / "imports.log"), **env})
    return run_probe(probe, timeout=120)


def test_the_custom_op_is_built_and_run_after_the_imports_in_their_interpreter(tmp_path: Path) -> None:
    facts = custom_op_probe(tmp_path)
    op = facts["devel_builds"]["custom_op"]
    assert (op["ok"], op["phase"], op["got"]) == (True, "build and run", "pv-custom-op [3.0, 5.0, 7.0]"), op
    imports = facts["imports"]["data"]["packages"]
    assert imports["paddle"]["ok"], imports
    assert not imports["no_such_module_here"]["ok"]
    assert not list(Path("/tmp").glob("pv-devel-*/pv_op.cc")), "the custom op's directory was not removed"
    imported = (tmp_path / "imports.log").read_text().split()
    assert imported == ["imported"], f"paddle was imported {len(imported)} times: once for the imports and the op"


def test_a_custom_op_that_fails_is_named_and_costs_the_imports_nothing(tmp_path: Path) -> None:
    facts = custom_op_probe(tmp_path, PV_FAKE_BUILD_ERROR="1")
    op = facts["devel_builds"]["custom_op"]
    assert (op["ok"], op["phase"], op["rc"]) == (False, "build and run", 1), op
    message = failure("cpu-devel", op)
    assert message.startswith("cpu-devel: devel build custom_op (a paddle custom C++ operator"), message
    assert "fatal error: paddle/extension.h: No such file or directory" in message
    assert "RuntimeError: Failed to compile the custom op" in message
    assert facts["imports"]["rc"] == 0
    assert facts["imports"]["data"]["packages"]["paddle"]["ok"]


def test_a_crash_before_the_custom_op_costs_it_nothing(tmp_path: Path) -> None:
    """run_check ends the shared interpreter (a crash): its own finding; the custom op after it is
    built all the same, in a child of its own."""
    facts = custom_op_probe(tmp_path, run_check=True, PV_FAKE_RUN_CHECK_CRASH="1")
    assert facts["run_check"]["rc"] == 134, facts["run_check"]
    op = facts["devel_builds"]["custom_op"]
    assert (op["ok"], op["got"]) == (True, "pv-custom-op [3.0, 5.0, 7.0]"), op
    assert facts["imports"]["data"]["packages"]["paddle"]["ok"]
    imported = (tmp_path / "imports.log").read_text().split()
    assert len(imported) == 2, "the custom op was not built in a child of its own after the crash"
    assert not list(Path("/tmp").glob("pv-devel-*/pv_op.cc")), "a custom op's directory was not removed"


def test_a_run_check_left_in_static_mode_costs_the_custom_op_nothing(tmp_path: Path) -> None:
    facts = custom_op_probe(tmp_path, run_check=True, PV_FAKE_RUN_CHECK_FAILS="1")
    assert "ONLY for single GPU" in facts["run_check"]["stdout"]
    op = facts["devel_builds"]["custom_op"]
    assert (op["ok"], op["got"]) == (True, "pv-custom-op [3.0, 5.0, 7.0]"), op


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
