"""What ``paddle-verify init`` keeps of a devel image (toolchain, Python headers, source trees)
and of a demo image (demo dependencies, tools, the demo that trains): see :mod:`.keep`."""

from __future__ import annotations

import math

from ..manifest.draft import Section
from . import discover
from .image import ImageFacts
from .missing import FactMissing


def first_line(text: str) -> str:
    return next((ln.strip() for ln in (text or "").splitlines() if ln.strip()), "")


def devel_section(facts: ImageFacts, unmet: list[str]) -> Section:
    """``[contract.devel]``: the tools that answer, Python's headers, the source trees with files."""
    s = Section("contract.devel")
    devel = facts.devel
    tools: dict[str, list[str]] = {}
    answers, dropped = [], {}
    for name, run in devel["toolchain"].items():
        if run["error"] is None and run["rc"] == 0:
            tools[name] = list(run["argv"])
            answers.append(f"{name}: {first_line(run['stdout'] or run['stderr'])}")
        else:
            dropped[name] = run["error"] or f"exited with {run['rc']}"
    headers = devel["headers"]
    s.add(
        "python_headers",
        headers["python_h"],
        f"Python.h {'is' if headers['python_h'] else 'is not'} in {headers['include']}",
    )
    if not headers["python_h"]:
        unmet.append(f"test_python_headers: no Python.h in {headers['include']}")
    trees = [t for t in devel["sources"] if t["exists"] and t["files"] > 0]
    markers = [m for m in discover.SOURCE_MARKERS if trees and all(t["markers"].get(m) for t in trees)]
    absent = {t["dir"]: "absent or empty" for t in devel["sources"] if t not in trees}
    counted = "; ".join(f"{t['dir']}: {'2000+' if t['files'] >= 2000 else t['files']} files" for t in trees)
    s.add("source_dirs", [t["dir"] for t in trees], counted or "none", dropped=absent)
    unmarked = {m: "not in every source dir" for m in discover.SOURCE_MARKERS if m not in markers}
    s.add("source_markers", markers, "files present in every source dir kept", dropped=unmarked)
    if not trees:
        unmet.append(f"test_source_tree: none of {', '.join(discover.SOURCE_DIRS)} holds files")
    s.add("toolchain", tools, "exit 0 in the image: " + ("; ".join(answers) or "none"), dropped=dropped)
    return s


def demo_section(facts: ImageFacts) -> Section:
    """``[contract.demo]``: the demo dependencies that import, the tools on PATH, the demo if it learns."""
    s = Section("contract.demo")
    packages, dropped = [], {}
    for name in discover.DEMO_PACKAGES:
        p = facts.package(name)
        if p["ok"]:
            packages.append(name)
        else:
            dropped[name] = p.get("error") or "?"
    s.add("packages", packages, "demo dependencies that import", dropped=dropped)
    commands = [n for n in discover.DEMO_COMMANDS if facts.command(n)["path"] and facts.command(n)["executable"]]
    absent = {n: "not on PATH" for n in discover.DEMO_COMMANDS if n not in commands}
    s.add("commands", commands, "demo tools on PATH and executable", dropped=absent)
    try:
        run, data = facts.demo_train
    except FactMissing as exc:
        s.notes.append(f"not kept (train): {exc}")
        return s
    losses = (data["losses"] if data else None) or []
    if losses and all(math.isfinite(x) for x in losses) and losses[-1] < 0.5 * losses[0]:
        s.add("train", discover.DEMO_TRAIN, f"trained in the image, loss {losses[0]:.4f} -> {losses[-1]:.4f}")
    else:
        why = run.get("error") or first_line((run.get("stderr") or "")[-300:]) or f"losses {losses}"
        s.notes.append(f"not kept (train): {discover.DEMO_TRAIN} did not learn: {why}")
    return s
