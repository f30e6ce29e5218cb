"""Deliberately broken images, one defect each, built from the reference images.

Each defect names the checks it must fail (``{v}`` is the variant the image is
checked as) and words each failure's message must contain besides the variant.
Every other check of that variant must pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from paddle_verify.manifest import load

# The reference images' tag, from their manifest; OTHER: a version the images are not.
TAG = load(Path(__file__).resolve().parents[1] / "variants" / "reference.toml").default_tag
OTHER = f"{TAG}.post99"
LAUNCHER = "/usr/local/bin/paddle"
SITE = "/usr/local/lib/python3.11/dist-packages"

_LAUNCHER_GONE = {
    "test_launcher_subcommand_answers[{v}-version]": "did not run",
    "test_paddle_version_exits_0_offline[{v}]": "did not run",
    "test_paddle_version_prints_version_and_build[{v}]": "printed no 'PaddlePaddle",
    "test_with_gpu_matches_flavour[{v}]": "with_gpu: None",
    "test_version_matches_tag[{v}]": "says None",
    "test_launcher_and_package_agree[{v}]": "`paddle version` says None",
}


def _patch_paddle(line: str) -> str:
    """A Dockerfile line that appends ``line`` to paddle's ``__init__.py``: paddle still imports,
    and then misbehaves in exactly that one way (marked as the defect in the file)."""
    return f"RUN echo '{line}  # DEFECT (tests/defects.py)' >> {SITE}/paddle/__init__.py"


@dataclass(frozen=True)
class Defect:
    name: str
    base: str  # the reference variant it is built from
    role: str
    dockerfile: str  # what follows FROM
    fails: dict[str, str] = field(default_factory=dict)

    def expected(self, variant: str) -> dict[str, str]:
        return {check.format(v=variant): words for check, words in self.fails.items()}


# paddle's install check printing a failure and returning (exit 0): judged by what it printed.
RUN_CHECK_SAYS = "PaddlePaddle meets some problem with 1 CPU (DEFECT)"
RUN_CHECK_PRINTS_FAILURE = Defect(
    "run-check-prints-failure",
    "cpu",
    "runtime",
    _patch_paddle(f'import paddle.utils as _pv_u; _pv_u.run_check = lambda: print("{RUN_CHECK_SAYS}")'),
    {
        "test_run_check_says_paddle_works[{v}]": f"did not say paddle works on 1 CPU(s): no line 'PaddlePaddle works well on 1 CPU.'; it printed: '{RUN_CHECK_SAYS}"
    },
)

DEFECTS = [
    Defect(
        "launcher-missing",
        "cpu",
        "runtime",
        f"RUN rm {LAUNCHER}",
        {
            "test_command_on_path_and_executable[{v}-paddle]": "`paddle` is not on PATH",
            **_LAUNCHER_GONE,
            "test_paddle_version_in_the_shell[{v}]": "exited with 127",
        },
    ),
    Defect(
        "launcher-not-executable",
        "cpu",
        "runtime",
        f"RUN chmod a-x {LAUNCHER}",
        {
            "test_command_on_path_and_executable[{v}-paddle]": "is not executable",
            **{k: (v if "did not run" not in v else "Permission denied") for k, v in _LAUNCHER_GONE.items()},
            "test_paddle_version_in_the_shell[{v}]": "exited with 126",
        },
    ),
    Defect(
        "import-fails",
        "cpu",
        "runtime",
        "RUN rm -f /usr/lib/x86_64-linux-gnu/libgomp.so.1*",
        {
            "test_package_imports[{v}-paddle]": "libgomp.so.1",
            "test_package_imports[{v}-paddle.inference]": "libgomp.so.1",
            "test_paddle_computes[{v}]": "libgomp.so.1",
            "test_launcher_and_package_agree[{v}]": "the paddle package says None",
            "test_same_paddle_as_the_other_variants[{v}]": "reports no version",
            "test_run_check_says_paddle_works[{v}]": "libgomp.so.1",
        },
    ),
    Defect(
        "wrong-version",
        "cpu",
        "runtime",
        f"RUN sed -i 's/echo \"PaddlePaddle {TAG},/echo \"PaddlePaddle {OTHER},/' {LAUNCHER}",
        {
            "test_version_matches_tag[{v}]": f"says {OTHER}, the tag {TAG}",
            "test_launcher_and_package_agree[{v}]": f"says {OTHER}, the paddle package says {TAG}",
        },
    ),
    Defect(
        "with-gpu-wrong",
        "cpu",
        "runtime",
        f"RUN sed -i 's/with_gpu: OFF/with_gpu: ON/' {LAUNCHER}",
        {"test_with_gpu_matches_flavour[{v}]": "with_gpu: ON, a cpu image needs OFF"},
    ),
    Defect(
        "no-shell",
        "cpu",
        "runtime",
        'CMD ["python3", "-c", "print(\'this image runs no shell\')"]',
        {
            "test_run_it_gives_a_shell[{v}]": "gave no shell",
            "test_paddle_version_in_the_shell[{v}]": "gave no shell",
        },
    ),
    Defect(
        "devel-tool-missing",
        "cpu-devel",
        "devel",
        "RUN rm /usr/bin/cmake",
        {"test_tool_runs[{v}-cmake]": "devel tool cmake missing"},
    ),
    Defect(
        "build-line-missing",
        "cpu",
        "runtime",
        f"RUN sed -i '/echo \"    with_avx: ON\"/d' {LAUNCHER}",
        {"test_paddle_version_prints_version_and_build[{v}]": "lacks the build line(s) ['with_avx']"},
    ),
    Defect(
        "matmul-wrong",
        "cpu",
        "runtime",
        _patch_paddle("_pv_mm = matmul; matmul = lambda x, y, *a, **k: _pv_mm(x, y, *a, **k) + 1"),
        {"test_paddle_computes[{v}]": "paddle.matmul gave [[20.0, 23.0], [44.0, 51.0]]"},
    ),
    Defect(
        "python-headers-missing",
        "cpu-devel",
        "devel",
        "RUN rm /usr/include/python3.11/Python.h",
        {
            "test_python_headers[{v}]": "no Python.h in /usr/include/python3.11",
            "test_builds_python_extension[{v}]": "Python.h: No such file or directory",
            # The custom op includes paddle's operator API (phi/api/all.h), which needs no Python.h
            # (extension.h's PIR pass headers do, through pybind11): not this check's finding.
        },
    ),
    # Nothing compiles without the C library's headers: every build step fails, naming stdio.h
    # (C++'s <cstdio>, Python.h and paddle's headers all include it).
    Defect(
        "stdio-h-missing",
        "cpu-devel",
        "devel",
        "RUN rm /usr/include/stdio.h",
        {
            "test_builds_c_program[{v}]": "devel build c (a C program (stdio.h)) failed at compile: `gcc",
            "test_builds_cxx_program[{v}]": "stdio.h: No such file or directory",
            "test_builds_python_extension[{v}]": "stdio.h: No such file or directory",
            "test_builds_paddle_custom_op[{v}]": "stdio.h: No such file or directory",
        },
    ),
    Defect(
        "paddle-include-missing",
        "cpu-devel",
        "devel",
        f"RUN rm -r {SITE}/paddle/include",
        {"test_builds_paddle_custom_op[{v}]": "paddle/extension.h: No such file or directory"},
    ),
    Defect(
        "source-tree-missing",
        "cpu-devel",
        "devel",
        "RUN rm -r /paddle",
        {"test_source_tree[{v}]": "no source tree in any of ['/paddle']: {'/paddle': 'absent'}"},
    ),
    Defect(
        "other-commit",
        "cpu-devel",
        "devel",
        f"RUN sed -i \"s/^commit *= '.*'/commit = 'deadbeef0000'/\" {SITE}/paddle/version/__init__.py",
        {"test_same_paddle_as_the_other_variants[{v}]": f"paddle {TAG} (commit deadbeef0000) differs"},
    ),
    Defect(
        "other-package-version",
        "cpu",
        "runtime",
        f"RUN sed -i \"s/^full_version *= '.*'/full_version = '{OTHER}'/\" {SITE}/paddle/version/__init__.py",
        {
            "test_same_paddle_as_the_other_variants[{v}]": f"paddle {OTHER} (commit",
            "test_launcher_and_package_agree[{v}]": f"says {TAG}, the paddle package says {OTHER}",
        },
    ),
    Defect(
        "demo-does-not-learn",
        "cpu-demo",
        "demo",
        _patch_paddle("import paddle.optimizer as _pv_o; _pv_o.SGD.step = lambda self: None"),
        {"test_demo_trains_and_loss_goes_down[{v}]": "loss did not go down"},
    ),
    Defect(
        "demo-loss-nan",
        "cpu-demo",
        "demo",
        _patch_paddle(
            "import math as _pv_m, paddle.nn.functional as _pv_f; _pv_l = _pv_f.mse_loss; "
            "_pv_f.mse_loss = lambda *a, **k: _pv_l(*a, **k) * _pv_m.nan"
        ),
        {"test_demo_trains_and_loss_goes_down[{v}]": "loss is not finite"},
    ),
    Defect(
        "requirement-missing",
        "cpu",
        "runtime",
        "RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip uninstall -q -y networkx",  # paddle still imports without it
        {"test_pip_check_finds_no_broken_requirements[{v}]": "paddlepaddle 3.3.1 requires networkx: not installed"},
    ),
    Defect(
        "demo-dep-missing",
        "cpu-demo",
        "demo",
        "RUN PIP_BREAK_SYSTEM_PACKAGES=1 pip uninstall -q -y docopt",
        {"test_demo_package_imports[{v}-docopt]": "No module named 'docopt'"},
    ),
    RUN_CHECK_PRINTS_FAILURE,
]

# The contract-package defect needs a contract with py_paddle (the install
# page's third part): a test double of it is added to the cpu image, then removed.
PY_PADDLE_DOUBLE = f"COPY doubles/py_paddle {SITE}/py_paddle"
CONTRACT_PACKAGE_MISSING = Defect(
    "contract-package-missing",
    "cpu",
    "runtime",
    f"RUN rm -r {SITE}/py_paddle",
    {
        "test_package_imports[{v}-py_paddle]": "No module named 'py_paddle'",
        "test_py_paddle_initialises[{v}]": "No module named 'py_paddle'",
    },
)


# py_paddle's initialisation failing while the package imports: the py_paddle TEST DOUBLE with an
# initPaddle that raises (the run with a py_paddle contract, test_broken_images.py).
PY_PADDLE_INIT_FAILS = Defect(
    "py-paddle-init-fails",
    "cpu",
    "runtime",
    f"RUN echo 'def initPaddle(*flags): raise RuntimeError(\"no device\")  # DEFECT' "
    f">> {SITE}/py_paddle/swig_paddle.py",
    {"test_py_paddle_initialises[{v}]": "initPaddle('--use_gpu=0') failed: RuntimeError: no device"},
)

# Broken gpu images, built from the reference gpu images (variants/reference-gpu.toml) and checked
# with --allow-no-gpu: on a host without a GPU their image-level checks are what can fail.
GPU_SITE_NVIDIA = f"{SITE}/nvidia"
GPU_DEFECTS = [
    Defect(
        "with-gpu-off",
        "gpu",
        "runtime",
        f"RUN sed -i 's/with_gpu: ON/with_gpu: OFF/' {LAUNCHER}",
        {"test_with_gpu_matches_flavour[{v}]": "with_gpu: OFF, a gpu image needs ON"},
    ),
    Defect(
        "cuda-library-missing",
        "gpu",
        "runtime",
        f"RUN rm {GPU_SITE_NVIDIA}/cufft/lib/libcufft.so* && ldconfig",
        {"test_cuda_library_loads[{v}-libcufft.so]": "the CUDA library libcufft.so does not load"},
    ),
    Defect(
        "paddle-cuda-other-than-runtime",
        "gpu",
        "runtime",
        f"RUN sed -i \"s/^cuda_version *= '.*'/cuda_version = '12.0'/\" {SITE}/paddle/version/__init__.py",
        {"test_paddle_built_with_the_image_cuda[{v}]": "paddle was built with CUDA 12.0, the image's runtime"},
    ),
    Defect(
        "nvcc-missing",
        "gpu-devel",
        "devel",
        "RUN rm /usr/local/cuda-11.8/bin/nvcc",
        {
            "test_tool_runs[{v}-nvcc]": "devel tool nvcc missing",
            "test_compiles_cuda_program[{v}]": "devel build cuda (a CUDA program) failed at compile: `nvcc",
        },
    ),
]


def _all() -> list[Defect]:
    from .defects_py27 import PY27_DEFECTS  # it imports Defect from here

    return [*DEFECTS, CONTRACT_PACKAGE_MISSING, PY_PADDLE_INIT_FAILS, *GPU_DEFECTS, *PY27_DEFECTS]


ALL_DEFECTS = _all()
