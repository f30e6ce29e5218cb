"""The devel builds, host side: what ``inimage/devel.py`` is asked to build, and how a failed build reads.

The builds themselves run in the image (``probe.py`` starts each as one of its jobs; ``gpu_probe.py``
runs the CUDA program where a GPU is); their results are :class:`~.schema.DevelBuild`. A failure
names the step, the phase (compile, run, import), the command and the compiler's own error: the
lines that say ``error`` and the last lines of its output.
"""

from __future__ import annotations

from typing import Any

from ..manifest import Variant
from .schema import DevelBuild

# What each step proves, in the words of a failure.
WHAT = {
    "c": "a C program (stdio.h)",
    "cxx": "a C++ program (iostream, vector)",
    "python_extension": "a Python C extension (Python.h), imported",
    "custom_op": "a paddle custom C++ operator (paddle.utils.cpp_extension, paddle/include)",
    "cuda": "a CUDA program",
}
ERROR_LINES = 3  # the compiler's first lines that say "error"
LAST_LINES = 4  # and the last lines of its output


# A build's phase (compile, run) may take this many times --exec-timeout: compiling paddle's
# extension headers is a minute of one core's work on a loaded 2-core host, `paddle version` is not.
BUILD_DEADLINE_FACTOR = 3


def devel_builds_config(variant: Variant, timeout: float, *, cuda_run: bool = False) -> dict[str, Any] | None:
    """The contract's ``builds`` and compilers for ``inimage/devel.py``, each phase bounded by ``timeout``
    times :data:`BUILD_DEADLINE_FACTOR`; ``cuda_run``: run the CUDA program too (only ``gpu_probe.py``,
    in a container with the GPUs, asks)."""
    devel = variant.devel
    if devel is None or not devel.builds:
        return None
    return {
        "timeout": timeout * BUILD_DEADLINE_FACTOR,
        "steps": list(devel.builds),
        "c_compiler": devel.c_compiler,
        "cxx_compiler": devel.cxx_compiler,
        "cuda_compiler": devel.cuda_compiler,
        "cuda_run": cuda_run,
    }


def compiler_error(output: str) -> str:
    """The compiler's error in a few lines: those that say ``error`` (first ones), then the last ones."""
    lines = [ln.rstrip() for ln in output.splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()][:ERROR_LINES]
    tail = [ln for ln in lines[-LAST_LINES:] if ln not in errors]
    return " | ".join(errors + tail)[-1200:]


def failure(variant: str, build: DevelBuild) -> str:
    """Why ``build`` failed, naming the variant, the step, the phase, the command and the error."""
    step = build["step"]
    what = WHAT.get(step, step)
    argv = " ".join("<script>" if "\n" in a else a for a in build["argv"])  # a python -c script: not its text
    if build["rc"] == 0 and not build["timed_out"]:
        return (
            f"{variant}: devel build {step} ({what}): `{argv}` printed {build['got']!r}, expected {build['expected']!r}"
        )
    how = "did not finish in time" if build["timed_out"] else f"exited with {build['rc']}"
    if build["rc"] is None and not build["timed_out"]:
        how = "could not run"
    return f"{variant}: devel build {step} ({what}) failed at {build['phase']}: `{argv}` {how}: {compiler_error(build['output'])}"
