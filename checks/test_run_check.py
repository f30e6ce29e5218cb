"""paddle's own install check (``paddle.utils.run_check()``; 1.x: ``fluid.install_check.run_check()``)
says paddle works: judged by the lines it prints, never by its exit (it prints and returns).

The image check runs it in the probe's container, which has no GPU: there a gpu variant's paddle
falls back to the CPU, and the CPU's wording is what it must print. Where the GPU checks run
(a host with GPUs), the GPU-device check runs it again in the container that has the host's
GPUs and requires the GPU wording for every GPU; on a host without a GPU that check is not
run, and says so (``--allow-no-gpu``).
"""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.facts.run_check import FLUID_API, FLUID_NO_DEVICE, missing_lines, printed, quote
from paddle_verify.facts.schema import ChildResult, RunCheck
from paddle_verify.gpu import GpuCheck
from paddle_verify.manifest import Variant

pytestmark = [pytest.mark.contract("runtime.runs_run_check"), pytest.mark.contract("carries.paddle")]


def _judge(variant: Variant, run: ChildResult, found: RunCheck, device: str, count: int, where: str) -> None:
    out, api = printed(run), found["api"]
    assert api is not None, (
        f"{variant.name}: paddle's install check could not run {where}: {found['error'] or 'no run_check in paddle'}; "
        f"it printed: {quote(out)}"
    )
    missing = missing_lines(out, api, device, count)
    raised = f"; it raised {found['error']}" if found["error"] else ""
    assert not missing, (
        f"{variant.name}: {api}() {where} did not say paddle works on {count} {device}(s): no line {missing[0]!r}"
        f"{raised}; it printed: {quote(out)}"
    )


def test_run_check_says_paddle_works(variant: Variant, facts: ImageFacts) -> None:
    run, found = facts.run_check
    if found["api"] is None and found["error"] is None and variant.runtime.run_check is None:
        version = (facts.imports.get("paddle") or {}).get("version")
        pytest.skip(f"{variant.name}: not run: paddle {version} has no install check (no run_check to judge)")
    if found["api"] == FLUID_API and variant.flavour == "gpu" and FLUID_NO_DEVICE in printed(run):
        pytest.skip(f"{variant.name}: not run: 1.x's run_check runs only on a GPU (test_run_check_works_on_the_gpus)")
    # A gpu variant here too: the probe's container has no GPU, so its paddle (2.x, 3.x) says "1 CPU".
    _judge(variant, run, found, "CPU", 1, "in a container without a GPU")


@pytest.mark.flavour("gpu")
@pytest.mark.gpu_device
def test_run_check_works_on_the_gpus(variant: Variant, gpu_check: GpuCheck) -> None:
    facts, host = gpu_check.facts, gpu_check.host
    run, found = facts.run_check
    _judge(variant, run, found, "GPU", host.count, f"in a container with the host's GPUs ({facts.description})")
