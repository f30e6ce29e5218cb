"""Everything that runs inside the image under test, and the one loader that sends it there.

The rule, stated once: the files of this folder (all but this loader) run in the
*image's* Python, which may be 2.7 (the historical images) or any 3.x. So: no
f-strings, no annotations, no ``subprocess`` timeouts, standard library only; a
script is sent as text with ``python -c`` and answers with one JSON line after a
marker. ``common.py`` (which, text, run, python_child, Jobs) is sent in front of the
probes, and ``probe.py``'s parts (children, run_check, secrets, installed, devel_sources, devel, pipcheck) in front of it. The host side reads that JSON through the schemas in :mod:`paddle_verify.facts.schema`.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

# Each probe is sent as its parts, in this order (helpers first, the script's main last).
PROBES = {
    "probe.py": (
        "common.py",
        "children.py",
        "run_check.py",
        "secrets.py",
        "installed.py",
        "devel_sources.py",
        "devel.py",
        "pipcheck.py",
        "probe.py",
    ),
    "gpu_probe.py": ("common.py", "run_check.py", "devel_sources.py", "devel.py", "gpu_probe.py"),
}
AGENTS = ("agent.py", "netagent.py")  # standalone
GPU_MARKER = "PADDLE_VERIFY_GPU="  # what gpu_probe.py prints in front of its JSON


def source(name: str) -> str:
    """The text to send for ``name``: a probe with the shared helpers in front, an agent alone."""
    if name not in PROBES and name not in AGENTS:
        raise ValueError(f"no in-image script {name!r} (valid: {', '.join([*PROBES, *AGENTS])})")
    folder = resources.files(__name__)
    parts = PROBES.get(name, (name,))
    return "\n\n".join(folder.joinpath(n).read_text(encoding="utf-8") for n in parts)


def demo(name: str) -> str:
    """A demo's training script (``demos/NAME.py``), run by the probe in a child interpreter."""
    return resources.files(__name__).joinpath("demos", f"{name}.py").read_text(encoding="utf-8")


def demo_names() -> list[str]:
    return sorted(p.name[:-3] for p in resources.files(__name__).joinpath("demos").iterdir() if p.name.endswith(".py"))


def probe_argv(python: str, name: str, config: dict[str, Any]) -> list[str]:
    """``python -c SCRIPT CONFIG``: one exec, every input as an argument, nothing interpolated."""
    return [python, "-c", source(name), json.dumps(config)]


def read_marked(stdout: str, marker: str) -> dict[str, Any] | None:
    """The JSON a probe printed after ``marker``, or None when it printed none."""
    for line in stdout.splitlines():
        if line.startswith(marker):
            data: dict[str, Any] = json.loads(line[len(marker) :])
            return data
    return None
