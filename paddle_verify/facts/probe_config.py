"""What the in-image probe is asked (its JSON config) and how long it may take, for one variant:
the contract's commands, packages and steps, the secret walk's bounds, the devel builds."""

from __future__ import annotations

from typing import Any

from .. import inimage
from ..manifest import Variant
from .devel import BUILD_DEADLINE_FACTOR, devel_builds_config

# Where credentials are left: root's and the users' homes (the probe adds those of
# /etc/passwd), /etc and /opt, and the image's workdir; each walked this deep, at most this
# many files in all, within this many seconds (or --exec-timeout, the smaller).
SECRET_ROOTS = ("/root", "/home", "/etc", "/opt")
SECRET_DEPTH = 8
SECRET_FILES = 20000
SECRET_SECONDS = 20.0


def probe_config(
    variant: Variant, timeout: float, *, workdir: str = "", cuda_runtimes: tuple[str, ...] = (), secrets: bool = True
) -> dict[str, Any]:
    """The probe's input; ``workdir`` is the image's ``WorkingDir`` (walked for secrets);
    ``cuda_runtimes``: candidates tried when the contract names no CUDA runtime (discovery)."""
    rt, devel, demo = variant.runtime, variant.devel, variant.demo
    return {
        "launcher": rt.launcher,
        "launcher_subcommands": list(rt.launcher_subcommands),
        "commands": list(dict.fromkeys([*rt.commands, *(demo.commands if demo else ())])),
        "packages": list(dict.fromkeys([*rt.packages, *(demo.packages if demo else ())])),
        "py_paddle_init": rt.py_paddle_init,
        "computation": rt.computation,
        "run_check": rt.runs_run_check and variant.carries.paddle,
        "env": dict(rt.env),
        "timeout": timeout,
        "devel": None
        if devel is None
        else {
            "toolchain": [[name, list(argv)] for name, argv in devel.toolchain.items()],
            "source_dirs": list(devel.source_dirs),
            "source_markers": list(devel.source_markers),
        },
        "devel_builds": devel_builds_config(variant, timeout),
        "demo_train": inimage.demo(demo.train) if demo and demo.train else None,
        "cuda": {
            "libraries": list(rt.cuda_libraries),
            "runtime": rt.cuda_runtime,
            "runtime_candidates": list(cuda_runtimes),
        }
        if variant.flavour == "gpu" and (rt.cuda_libraries or rt.cuda_runtime or cuda_runtimes)
        else None,
        "secrets": None
        if not secrets
        else {
            "roots": [*SECRET_ROOTS, *([workdir] if workdir else [])],
            "passwd_homes": True,
            "max_depth": SECRET_DEPTH,
            "max_files": SECRET_FILES,
            "seconds": min(timeout, SECRET_SECONDS),
        },
        "pip_check": {"timeout": timeout},
    }


def probe_deadline(variant: Variant, timeout: float) -> float:
    """An upper bound for the whole probe: its sequential steps, each bounded (the devel builds run
    beside the others: two phases at most, each bounded by BUILD_DEADLINE_FACTOR timeouts; run_check
    and the demo's training follow the imports in their interpreter: a deadline each)."""
    steps = len(variant.runtime.launcher_subcommands) + 2
    steps += int(variant.runtime.runs_run_check) + int(bool(variant.demo and variant.demo.train))
    if variant.devel:
        steps += len(variant.devel.toolchain) + (2 * BUILD_DEADLINE_FACTOR if variant.devel.builds else 0)
    return timeout * steps + 10
