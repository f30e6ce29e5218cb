"""paddle's own install check judged by what it prints: the lines that say paddle works.

``paddle.utils.run_check()`` (2.x, 3.x) prints and returns; what it printed is the verdict,
never its exit. Its success lines, from PaddlePaddle's ``python/paddle/utils/install_check.py``::

    PaddlePaddle works well on 1 CPU.
    PaddlePaddle works well on 1 GPU.
    PaddlePaddle works well on 8 GPUs.
    PaddlePaddle is installed successfully! Let's start deep learning with PaddlePaddle now.

(on several devices, a failure of the parallel run prints "installed successfully ONLY for
single GPU" instead). 1.x's ``fluid.install_check.run_check()`` (``python/paddle/fluid/
install_check.py`` of the 1.8 branch) names no device::

    Your Paddle Fluid works well on SINGLE GPU or CPU.
    Your Paddle Fluid works well on MUTIPLE GPU or CPU.
"""

from __future__ import annotations

import re

from .schema import ChildResult

FLUID_API = "paddle.fluid.install_check.run_check"
INSTALLED = "PaddlePaddle is installed successfully! Let's start deep learning"
FLUID_SINGLE = "Your Paddle Fluid works well on SINGLE GPU or CPU."
FLUID_MULTIPLE = "Your Paddle Fluid works well on MUTIPLE GPU or CPU."  # sic: 1.x's own spelling
# 1.x's gpu build without a GPU does not fall back to the CPU: it warns this and returns, running nothing.
FLUID_NO_DEVICE = "But Your CUDA Device is not set properly"
WORKS_ON = re.compile(r"^PaddlePaddle works well on (?P<count>\d+) (?P<device>[A-Za-z]+?)s?\.\s*$", re.M)


def printed(run: ChildResult) -> str:
    """What the install check printed: the child's stdout without its last (JSON) line, then its stderr."""
    lines = run["stdout"].rstrip().splitlines()
    return "\n".join([*lines[:-1], run["stderr"].rstrip()]).strip()


def works_on(output: str) -> list[tuple[int, str]]:
    """Every "works well on N DEVICE(s)" line: ``[(1, "CPU")]``, ``[(1, "GPU"), (8, "GPU")]``."""
    return [(int(m.group("count")), m.group("device")) for m in WORKS_ON.finditer(output)]


def lines_wanted(api: str, device: str, count: int) -> list[str]:
    """The lines that say paddle works on ``count`` ``device``(s), in the wording of ``api``."""
    if api == FLUID_API:
        return [FLUID_SINGLE, *([FLUID_MULTIPLE] if count > 1 else [])]
    wanted = [f"PaddlePaddle works well on 1 {device}."]
    if count > 1:
        wanted.append(f"PaddlePaddle works well on {count} {device}s.")
    return [*wanted, INSTALLED]


def missing_lines(output: str, api: str, device: str, count: int) -> list[str]:
    """The success lines ``output`` lacks (empty: the check says paddle works there)."""
    have = {line.strip() for line in output.splitlines()}
    return [w for w in lines_wanted(api, device, count) if not any(h.startswith(w) for h in have)]


def quote(output: str, limit: int = 600) -> str:
    """What it printed, for a message: its last ``limit`` characters in quotes, newlines as ``\\n``,
    or that it printed nothing."""
    text = output.strip()[-limit:].replace("\n", "\\n")
    return f"'{text}'" if text else "nothing"
