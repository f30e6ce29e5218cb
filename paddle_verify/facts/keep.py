"""What ``paddle-verify init`` keeps of an image's facts: each candidate the image meets as the
gate's check will judge it, with where it came from, as a :class:`~..manifest.draft.Draft`.

A value is kept only when the check that reads it passes on these facts (a package that imports
and has a version, a tool that exits 0, a source tree with files, ...), so what init writes for
an image passes against it. What no manifest field can relax (the launcher's version line, the
flavour against ``with_gpu``, Python headers, a source tree, paddle's CUDA against the image's)
is returned as ``unmet``: the checks that will fail, by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..gpu.compat import cuda_version
from ..manifest import TAG_RE
from ..manifest.draft import Draft, Section
from ..manifest.loader import VERSION_PATTERN
from . import discover
from .discover import Request
from .image import ImageFacts, parse_version
from .keep_roles import demo_section, devel_section, first_line
from .missing import FactMissing


@dataclass
class Kept:
    """The draft manifest and the checks the image will fail whatever it says."""

    draft: Draft
    unmet: list[str] = field(default_factory=list)


def draft_of(facts: ImageFacts, request: Request, command: str) -> Kept:
    """The manifest of what ``facts`` show, for ``request`` (``command``: how init was run)."""
    kept = Kept(Draft(header=[], sections=[]))
    runtime, flavour, version = _runtime(facts, request, kept)
    image_id = str((facts.inspect_raw or {}).get("Id") or "?")
    tag = version if version and TAG_RE.match(version) else "latest"
    suite = Section("suite")
    suite.add("name", request.variant, "the variant's name (--variant)")
    suite.add("image", facts.variant.image_template, f"the image init read (--image; its ID {image_id[:19]})")
    suite.add(
        "default_tag",
        tag,
        f"`paddle version` says {version}: the tag names the version (test_version_matches_tag)"
        if tag != "latest"
        else f"`paddle version` named no version usable as a tag ({version!r}): latest (its version is not compared)",
    )
    suite.add(
        "python",
        facts.variant.python,
        f"the first of {', '.join(request.pythons)} that ran the probe in the image",
    )
    kept.draft.header = [
        f"A paddle-verify manifest, written by `{command}` from the image {request.image} ({image_id[:19]}).",
        "Every value is what the gate's own probe (paddle_verify/inimage/probe.py, one exec, as `pytest checks/` "
        "runs it) found in the image; the comment above each says where it came from, and which candidates "
        "were not kept.",
        "",
        "Edit it: remove what your image need not keep, add what it must. Then gate the image with",
        f"    pytest checks/ --manifest THIS_FILE --variant {request.variant}",
        "init does not judge the checks that no field here changes (`docker run -it` gives a shell, the host's "
        "kernel, secrets, the SSH image): that command does. A gpu variant on a host without a GPU needs "
        "--allow-no-gpu.",
    ]
    kept.draft.sections = [suite, runtime]
    if discover.has_role(request.role, "devel"):
        kept.draft.sections.append(devel_section(facts, kept.unmet))
    if request.role == "demo":
        kept.draft.sections.append(demo_section(facts))
    variant = Section(f"variants.{request.variant}")
    variant.add("flavour", flavour[0], flavour[1])
    variant.add("role", request.role, "--role: runtime < devel (toolchain, sources) < demo (demo dependencies)")
    kept.draft.sections.append(variant)
    return kept


def _runtime(facts: ImageFacts, request: Request, kept: Kept) -> tuple[Section, tuple[str, str], str | None]:
    rt = facts.variant.runtime
    s = Section("contract.runtime")
    launcher = facts.command(rt.launcher)
    s.add("launcher", rt.launcher, f"on PATH at {launcher['path']} (mode {launcher['mode']})")
    if not (launcher["path"] and launcher["executable"]):
        kept.unmet.append(f"test_command_on_path_and_executable[{rt.launcher}]: `{rt.launcher}` is not on PATH")
    run = facts.version_run
    s.add(
        "launcher_subcommands",
        ["version"],
        f"`{rt.launcher} version` exited with {run['rc']} in {run['seconds']:.1f}s. The 2016 launcher also answered "
        "train, merge_model, pserver, dump_config and make_diagram (`--help`): add those yours answers "
        "(init does not try them: a launcher may wait on them)",
    )
    if run["error"] is not None or run["rc"] != 0:
        kept.unmet.append(f"test_paddle_version_exits_0_offline: `paddle version`: {run['error'] or run['rc']}")
    out = run["stdout"] or ""
    parsed = parse_version(out, VERSION_PATTERN)
    commands, dropped = [], {}
    for name in discover.RUNTIME_COMMANDS:
        c = facts.command(name)
        if c["path"] and c["executable"]:
            commands.append(name)
        else:
            dropped[name] = "not on PATH" if not c["path"] else f"{c['path']} not executable"
    paths = ", ".join(facts.command(c)["path"] or c for c in commands)
    s.add("commands", commands, f"on PATH and executable: {paths or 'none'}", dropped=dropped)
    packages, dropped = [], {}
    for name in rt.packages:
        p = facts.package(name)
        if p["ok"] and p.get("version"):
            packages.append(f"{name}")
        else:
            dropped[name] = p.get("error") or "imports but reports no version"
    imports = facts.imports
    versions = ", ".join(f"{n} {facts.package(n).get('version')}" for n in packages)
    s.add(
        "packages", packages, f"import in {facts.variant.python}, with a version: {versions or 'none'}", dropped=dropped
    )
    if parsed.version:
        line = next(ln for ln in out.splitlines() if ln.startswith("PaddlePaddle"))
        s.add("version_pattern", VERSION_PATTERN, f"matches `paddle version`'s line {line.strip()!r}")
    else:
        s.add("version_pattern", VERSION_PATTERN, "the default: it matched nothing `paddle version` printed")
        kept.unmet.append(f"test_paddle_version_prints_version_and_build: no version in {first_line(out)!r}")
    build = ", ".join(f"{k}: {v}" for k, v in parsed.build.items())
    s.add("build_lines", list(parsed.build), f"the with_* lines `paddle version` printed ({build or 'none'})")
    py = imports["py_paddle_init"] or {"ok": False, "error": "not tried"}
    s.add(
        "py_paddle_init",
        bool(py["ok"]),
        "swig_paddle.initPaddle('--use_gpu=0') "
        + ("succeeded" if py["ok"] else f"failed: {py.get('error')} (the 2016 images' py_paddle)"),
    )
    comp = imports["computation"] or {"ok": False, "error": "not tried"}
    right = comp["ok"] and comp.get("matmul") == comp.get("expected")
    s.add(
        "computation",
        bool(right),
        "a 2x2 paddle.matmul " + ("gave the right product" if right else f"did not: {comp.get('error') or comp}"),
    )
    s.add("env", dict(discover.ENV), "set for every command: the 2016 launcher phones home unless it is set")
    paddle = imports["paddle"] or {}
    if parsed.version != paddle.get("version"):
        kept.unmet.append(
            f"test_launcher_and_package_agree: `paddle version` says {parsed.version}, "
            f"the paddle package {paddle.get('version')}"
        )
    with_gpu = parsed.build.get("with_gpu")
    found = "gpu" if with_gpu == "ON" else "cpu"
    if request.flavour:
        flavour = (request.flavour, f"--flavour {request.flavour} (`paddle version` says with_gpu: {with_gpu})")
        if with_gpu != ("ON" if request.flavour == "gpu" else "OFF"):
            kept.unmet.append(f"test_with_gpu_matches_flavour: with_gpu: {with_gpu} in a {request.flavour} image")
    else:
        flavour = (found, f"`paddle version` says with_gpu: {with_gpu}")
        if with_gpu not in ("ON", "OFF"):
            kept.unmet.append(f"test_with_gpu_matches_flavour: `paddle version` printed no with_gpu line: {found}")
    if flavour[0] == "gpu":
        _cuda(facts, s, kept)
    return s, flavour, parsed.version


def _cudnn(version: int) -> str:
    """``8600`` (cudnnGetVersion) -> ``"8.6.0"``."""
    return f"{version // 1000}.{version % 1000 // 100}.{version % 100}"


def _cuda(facts: ImageFacts, s: Section, kept: Kept) -> None:
    try:
        cuda = facts.cuda
    except FactMissing as exc:
        s.notes.append(f"not kept (CUDA): {exc}")
        return
    libs = cuda["libraries"]
    loaded = [n for n, lib in libs.items() if lib["ok"]]
    absent = {n: "does not load" for n, lib in libs.items() if not lib["ok"]}
    s.add(
        "cuda_libraries",
        loaded,
        "load in the image (ctypes, no GPU needed), by the names paddle dlopens",
        dropped=absent,
    )
    runtime, version = cuda["runtime"], cuda["runtime_version"]
    if not runtime or version is None:
        s.notes.append(f"not kept (cuda_runtime): no CUDA runtime loads ({cuda.get('runtime_error')}): no CUDA check")
        return
    s.add(
        "cuda_runtime",
        runtime,
        f"the first CUDA runtime that loads: CUDA {cuda_version(version)} ({cuda['runtime_version_from']})"
        + (f", cuDNN {_cudnn(cuda['cudnn_version'])}" if cuda["cudnn_version"] else ""),
    )
    paddle = facts.imports["paddle"] or {}
    built, cudnn = paddle.get("cuda"), cuda["cudnn_version"]
    if built != cuda_version(version):
        kept.unmet.append(
            f"test_paddle_built_with_the_image_cuda: paddle built with CUDA {built}, the image has {cuda_version(version)}"
        )
    elif cudnn is not None and not (paddle.get("cudnn") or "").startswith(_cudnn(cudnn).rsplit(".", 1)[0]):
        kept.unmet.append(
            f"test_paddle_built_with_the_image_cuda: paddle built with cuDNN {paddle.get('cudnn')}, "
            f"the image has {_cudnn(cudnn)}"
        )
