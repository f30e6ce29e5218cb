"""Reading a manifest: TOML into :class:`~.model.Manifest`, every field checked, every problem named."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..inimage import demo_names
from . import accepted as accepted_findings
from . import carries
from .model import (
    DEVEL_BUILDS,
    FLAVOURS,
    ROLES,
    TAG_RE,
    DeclaredChanges,
    DemoContract,
    DevelContract,
    Manifest,
    ManifestError,
    RuntimeContract,
    Variant,
)
from .reader import Reader as _Reader

# `paddle version`'s first line, the version in a group (the default of version_pattern)
VERSION_PATTERN = r"^PaddlePaddle (?P<version>\S+?),? compiled with"
_SUITE_KEYS = {"name", "image", "default_tag", "python", "python_version"}
_RUNTIME_KEYS = {
    "launcher",
    "launcher_subcommands",
    "commands",
    "packages",
    "version_pattern",
    "build_lines",
    "py_paddle_init",
    "computation",
    "env",
    "cuda_libraries",
    "cuda_runtime",
    "run_check",
}
_DEVEL_KEYS = {
    "toolchain",
    "python_headers",
    "source_dirs",
    "source_markers",
    "builds",
    "c_compiler",
    "cxx_compiler",
    "cuda_compiler",
}
_DEMO_KEYS = {"packages", "commands", "train"}
_VARIANT_KEYS = {"flavour", "role", "image", "tag", "python_version", "cuda", "cudnn", "cuda_runtime", "paddle"}


def load(path: Path | str, tag: str | None = None) -> Manifest:
    """Read and validate a manifest; ``tag`` overrides the manifest's default tag."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ManifestError(path, "", "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ManifestError(path, "", f"cannot be read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "", f"is not valid TOML: {exc}") from None
    return parse(raw, path, tag)


def parse(raw: Mapping[str, Any], path: Path | str, tag: str | None = None) -> Manifest:
    path = Path(path)
    top = _Reader(path, "", dict(raw), {"suite", "contract", "variants", "changes", "secrets", "pip_check"})
    suite = _Reader(path, "suite", top.table.get("suite", {}), _SUITE_KEYS)
    image_template = suite.text("image")
    try:
        image_template.format(tag="t", variant="v")
    except (KeyError, IndexError, ValueError) as exc:
        raise ManifestError(path, "suite.image", f"only {{tag}} and {{variant}} may be used, not {exc}") from None
    default_tag = suite.text("default_tag", "latest")
    if not TAG_RE.match(default_tag):
        raise ManifestError(path, "suite.default_tag", f"{default_tag!r} is not a valid image tag")
    given_tag = tag  # --tag: every variant; else a variant's own tag, else the default
    python = suite.text("python", "python3")
    python_version = carries.x_y(suite.table, "python_version", suite._fail)

    contracts = _Reader(path, "contract", top.table.get("contract", {}), set(ROLES))
    runtime = _runtime(_Reader(path, "contract.runtime", contracts.table.get("runtime", {}), _RUNTIME_KEYS))
    devel = _devel(_Reader(path, "contract.devel", contracts.table.get("devel", {}), _DEVEL_KEYS))
    demo = _demo(_Reader(path, "contract.demo", contracts.table.get("demo", {}), _DEMO_KEYS))
    changes = _changes(_Reader(path, "changes", top.table.get("changes", {}), {"python", "debian"}))
    accepted = accepted_findings.read(path, top.table)

    variants_table = top.table.get("variants")
    if not isinstance(variants_table, dict) or not variants_table:
        raise ManifestError(path, "variants", "must be a table with at least one [variants.NAME]")
    variants: dict[str, Variant] = {}
    for name, table in variants_table.items():
        if name == "all" or not re.match(r"^[a-z0-9][a-z0-9._-]*$", name):
            raise ManifestError(path, f"variants.{name}", "is not a valid variant name")
        vr = _Reader(path, f"variants.{name}", table, _VARIANT_KEYS)
        flavour = vr.text("flavour")
        if flavour not in FLAVOURS:
            raise ManifestError(
                path, f"variants.{name}.flavour", f"must be one of {', '.join(FLAVOURS)}, not {flavour!r}"
            )
        role = vr.text("role")
        if role not in ROLES:
            raise ManifestError(path, f"variants.{name}.role", f"must be one of {', '.join(ROLES)}, not {role!r}")
        variant_tag = given_tag if given_tag is not None else vr.text("tag", default_tag)
        if not TAG_RE.match(variant_tag):
            raise ManifestError(path, f"variants.{name}.tag", f"{variant_tag!r} is not a valid image tag")
        own_runtime = vr.opt_str("cuda_runtime")  # a gpu variant's own CUDA runtime library (of its CUDA major)
        variants[name] = Variant(
            name=name,
            flavour=flavour,
            role=role,
            image_template=vr.text("image", image_template),
            tag=variant_tag,
            python=python,
            runtime=replace(runtime, cuda_runtime=own_runtime) if own_runtime else runtime,
            carries=carries.read(vr.table, flavour, role, python_version, vr._fail),
            devel=devel if ROLES.index(role) >= 1 else None,
            demo=demo if role == "demo" else None,
            changes=changes,
            accepted=accepted,
        )
    return Manifest(path=path, name=suite.text("name", path.stem), default_tag=default_tag, variants=variants)


def _runtime(r: _Reader) -> RuntimeContract:
    pattern = r.text("version_pattern", VERSION_PATTERN)
    try:
        compiled = re.compile(pattern, re.M)
    except re.error as exc:
        raise ManifestError(r.path, r._name("version_pattern"), f"is not a valid regular expression: {exc}") from None
    if "version" not in compiled.groupindex:
        raise ManifestError(r.path, r._name("version_pattern"), "must have a (?P<version>...) group")
    return RuntimeContract(
        launcher=r.text("launcher", "paddle"),
        launcher_subcommands=r.strs("launcher_subcommands") or ("version",),
        commands=r.strs("commands"),
        packages=r.strs("packages"),
        version_pattern=pattern,
        build_lines=r.strs("build_lines"),
        py_paddle_init=r.flag("py_paddle_init", False),
        computation=r.flag("computation", True),
        env=r.str_map("env"),
        cuda_libraries=r.strs("cuda_libraries"),
        cuda_runtime=r.opt_str("cuda_runtime"),
        run_check=r.opt_flag("run_check"),
    )


def _changes(r: _Reader) -> DeclaredChanges:
    """``[changes.python]`` and ``[changes.debian]``: package = "the reason", a reason each."""
    tables = {kind: r.str_map(kind) for kind in ("python", "debian")}
    for kind, table in tables.items():
        for name, reason in table.items():
            if not reason.strip():
                raise ManifestError(r.path, f"changes.{kind}.{name}", "needs a reason (why the change is meant)")
    return DeclaredChanges(python=tables["python"], debian=tables["debian"])


def _devel(r: _Reader) -> DevelContract:
    builds = _devel_builds(r)
    return DevelContract(
        toolchain=r.argv_map("toolchain"),
        python_headers=r.flag("python_headers", True),
        source_dirs=r.strs("source_dirs"),
        source_markers=r.strs("source_markers"),
        builds=builds,
        c_compiler=r.text("c_compiler", "gcc"),
        cxx_compiler=r.text("cxx_compiler", "g++"),
        cuda_compiler=r.opt_str("cuda_compiler"),
    )


def _devel_builds(r: _Reader) -> tuple[str, ...]:
    """``builds``: known steps, each once; "cuda" and ``cuda_compiler`` come together."""
    builds = r.strs("builds")
    unknown = [b for b in builds if b not in DEVEL_BUILDS]
    if unknown:
        raise r._fail("builds", f"unknown build(s) {unknown} (known: {', '.join(DEVEL_BUILDS)})")
    twice = sorted({b for b in builds if builds.count(b) > 1})
    if twice:
        raise r._fail("builds", f"lists {twice} more than once")
    compiler = r.opt_str("cuda_compiler")
    if "cuda" in builds and compiler is None:
        raise r._fail("builds", 'has "cuda": set cuda_compiler too (e.g. "nvcc")')
    if compiler is not None and "cuda" not in builds:
        raise r._fail("cuda_compiler", 'is set, but builds lacks "cuda": nothing would compile with it')
    return builds


def _demo(r: _Reader) -> DemoContract:
    train = r.opt_str("train")
    known = demo_names()
    if train is not None and train not in known:
        raise ManifestError(r.path, r._name("train"), f"unknown demo {train!r} (known: {', '.join(known)})")
    return DemoContract(packages=r.strs("packages"), commands=r.strs("commands"), train=train)
