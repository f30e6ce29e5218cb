"""paddle's install check judged by what it prints: the wording of each era (unit tier), the image
check on a defect image that prints a failure and exits 0 against the reference, and the
GPU-device check on the fake NVIDIA host tree with TEST DOUBLES of the GPU probe's run_check."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from checks import test_run_check as run_check_checks
from paddle_verify import gpu
from paddle_verify.facts import ImageFacts
from paddle_verify.facts.run_check import FLUID_API, missing_lines, printed, works_on
from paddle_verify.facts.schema import ChildResult, Probe
from paddle_verify.manifest import load

from .conftest import REFERENCE, ImageFactory, InnerRun
from .defects import RUN_CHECK_PRINTS_FAILURE, RUN_CHECK_SAYS
from .test_doubles import child, gpu_view
from .test_family import SLOW_HOST
from .test_gpu import AS_ROOT, fake_host

API = "paddle.utils.run_check"
# What paddle 3.3.1 prints on this host (the cpu reference image), and on a host with 8 GPUs
# (PaddlePaddle's docs); 1.x's lines from python/paddle/fluid/install_check.py (1.8 branch).
CPU_OK = (
    "Running verify PaddlePaddle program ... \nPaddlePaddle works well on 1 CPU.\n"
    "PaddlePaddle is installed successfully! Let's start deep learning with PaddlePaddle now."
)
GPUS_OK = (
    "Running verify PaddlePaddle program ... \nPaddlePaddle works well on 1 GPU.\nPaddlePaddle works well on 8 GPUs.\n"
    "PaddlePaddle is installed successfully! Let's start deep learning with PaddlePaddle now."
)
GPUS_ONLY_ONE = (
    "Running verify PaddlePaddle program ... \nPaddlePaddle works well on 1 GPU.\n"
    "PaddlePaddle is installed successfully ONLY for single GPU! Let's start deep learning with PaddlePaddle now."
)
FLUID_OK = (
    "Running Verify Fluid Program ... \nYour Paddle Fluid works well on SINGLE GPU or CPU.\n"
    "Your Paddle Fluid works well on MUTIPLE GPU or CPU.\n"
    "Your Paddle Fluid is installed successfully! Let's start deep Learning with Paddle Fluid now"
)


def test_the_wording_of_each_era() -> None:
    assert works_on(GPUS_OK) == [(1, "GPU"), (8, "GPU")]
    assert missing_lines(CPU_OK, API, "CPU", 1) == []
    assert missing_lines(GPUS_OK, API, "GPU", 8) == []
    assert missing_lines(CPU_OK, API, "GPU", 1) == ["PaddlePaddle works well on 1 GPU."]
    assert missing_lines(GPUS_ONLY_ONE, API, "GPU", 8) == [
        "PaddlePaddle works well on 8 GPUs.",
        "PaddlePaddle is installed successfully! Let's start deep learning",
    ]
    assert missing_lines(f"{RUN_CHECK_SAYS}\n", API, "CPU", 1)[0] == "PaddlePaddle works well on 1 CPU."
    assert missing_lines(FLUID_OK, FLUID_API, "CPU", 1) == []
    assert missing_lines(FLUID_OK, FLUID_API, "GPU", 2) == []
    assert missing_lines(CPU_OK, FLUID_API, "CPU", 1) == ["Your Paddle Fluid works well on SINGLE GPU or CPU."]


def test_printed_is_stdout_without_the_json_line_then_stderr() -> None:
    run = cast(ChildResult, {"stdout": f'{CPU_OK}\n\n{{"api": null}}\n', "stderr": "W0101 glog line\n"})
    assert printed(run) == f"{CPU_OK}\n\nW0101 glog line"


def _run_check(out: str, api: str | None = API, error: str | None = None) -> dict[str, Any]:
    """TEST DOUBLE of the RUN_CHECK child's result: what it printed, then its JSON line."""
    return {**child({"api": api, "error": error}), "stdout": f"{out}\n{{}}\n"}


@AS_ROOT
@pytest.mark.parametrize(
    ("out", "fails"),
    [
        (GPUS_OK.replace("8 GPUs", "2 GPUs"), None),
        (CPU_OK, "no line 'PaddlePaddle works well on 1 GPU.'"),  # the GPUs not used: it ran on the CPU
        (GPUS_ONLY_ONE, "no line 'PaddlePaddle works well on 2 GPUs.'"),
    ],
)
def test_run_check_on_the_gpus_needs_the_gpu_wording(tmp_path: Path, out: str, fails: str | None) -> None:
    host = gpu.discover(fake_host(tmp_path, gpus=2))
    facts = gpu_view({"run_check": _run_check(out)})
    check = gpu.GpuCheck(facts.variant, host, "seed", lambda: facts)
    if fails is None:
        run_check_checks.test_run_check_works_on_the_gpus(facts.variant, check)
        return
    with pytest.raises(AssertionError) as raised:
        run_check_checks.test_run_check_works_on_the_gpus(facts.variant, check)
    message = str(raised.value).splitlines()[0]
    assert message.startswith("gpu: paddle.utils.run_check() in a container with the host's GPUs"), message
    assert f"did not say paddle works on 2 GPU(s): {fails}" in message
    assert "it printed: 'Running verify PaddlePaddle program" in message


def test_run_check_prints_a_failure_and_exits_0(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun]
) -> None:
    """The defect image (run_check prints a failure and returns) as the cpu variant fails the run_check
    check, quoting what it printed; the reference devel image beside it passes."""
    defect = RUN_CHECK_PRINTS_FAILURE
    ref = build_image(defect.name, f"FROM {reference_images['cpu']}\n{defect.dockerfile}\n")
    run = run_checks(
        "--manifest",
        str(REFERENCE),
        "--variant",
        "cpu,cpu-devel",
        "--image",
        f"cpu={ref}",
        "-k",
        "run_check",
        *SLOW_HOST,
    )
    outcomes, messages = run.outcomes(), run.messages()
    assert outcomes == {
        "test_run_check_says_paddle_works[cpu]": "failed",
        "test_run_check_says_paddle_works[cpu-devel]": "passed",
    }, run.stdout[-3000:]
    message = messages["test_run_check_says_paddle_works[cpu]"]
    assert "cpu: paddle.utils.run_check() in a container without a GPU did not say" in message, message
    assert f"it printed: '{RUN_CHECK_SAYS}" in message


NO_CHECK = {"api": None, "error": None}


@pytest.mark.parametrize(
    ("flavour", "run_check", "found", "out", "outcome"),
    [
        ("cpu", None, {"api": API, "error": None}, CPU_OK, "passed"),
        ("gpu", None, {"api": API, "error": None}, CPU_OK, "passed"),  # no GPU in the probe's container
        ("cpu", None, NO_CHECK, "", "not run: paddle 0.9.0 has no install check"),
        ("cpu", True, NO_CHECK, "", "could not run in a container without a GPU: no run_check in paddle"),
        ("cpu", None, {"api": None, "error": "import paddle: ImportError: libgomp.so.1"}, "", "libgomp.so.1"),
        ("cpu", None, {"api": FLUID_API, "error": None}, FLUID_OK, "passed"),
        ("gpu", None, {"api": FLUID_API, "error": None}, "W You are using GPU version Paddle Fluid, But Your CUDA "
         "Device is not set properly", "not run: 1.x's run_check runs only on a GPU"),
    ],
)  # fmt: skip
def test_run_check_in_the_probe_on_doubles(
    flavour: str, run_check: bool | None, found: dict[str, Any], out: str, outcome: str
) -> None:
    """TEST DOUBLES of the probe's RUN_CHECK child: what passes, what is not run, what fails."""
    base = load(REFERENCE).variants["cpu"]
    variant = dataclasses.replace(base, flavour=flavour, runtime=dataclasses.replace(base.runtime, run_check=run_check))
    imports = child({"packages": {}, "paddle": {"version": "0.9.0"}, "py_paddle_init": None, "computation": None})
    probe = cast(Probe, {"run_check": {**_run_check(out), "data": found}, "imports": imports, "oom_kills": 0})
    facts = ImageFacts(variant, probe_raw=probe)
    if outcome == "passed":
        run_check_checks.test_run_check_says_paddle_works(variant, facts)
        return
    raises = pytest.skip.Exception if outcome.startswith("not run") else AssertionError
    with pytest.raises(raises) as raised:
        run_check_checks.test_run_check_says_paddle_works(variant, facts)
    assert outcome in str(raised.value), str(raised.value)
