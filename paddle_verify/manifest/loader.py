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
_DEVEL_KEYS = {"toolchain", "python_headers", "source_dirs", "source_markers"}
_DEMO_KEYS = {"packages", "commands", "train"}
_VARIANT_KEYS = {"flavour", "role", "image", "tag", "python_version", "cuda", "cudnn", "cuda_runtime", "paddle"}


class _Reader:
    """Typed access to one TOML table, with errors that name the field."""

    def __init__(self, path: Path, prefix: str, table: Any, allowed: set[str]) -> None:
        self.path = path
        self.prefix = prefix
        if not isinstance(table, dict):
            raise ManifestError(path, prefix, f"must be a table, not {type(table).__name__}")
        self.table: dict[str, Any] = table
        for key in table:
            if key not in allowed:
                raise ManifestError(path, self._name(key), f"unknown field (known: {', '.join(sorted(allowed))})")

    def _name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(self.path, self._name(key), problem)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self._fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, f"must be a non-empty string, not {value!r}")
        return value

    def opt_str(self, key: str) -> str | None:
        return None if key not in self.table else self.text(key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, not {value!r}")
        return value

    def opt_flag(self, key: str) -> bool | None:
        return None if key not in self.table else self.flag(key, False)

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, f"must be a list of non-empty strings, not {value!r}")
        return tuple(value)

    def str_map(self, key: str) -> dict[str, str]:
        value = self.table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, f"must be a table of strings, not {value!r}")
        return dict(value)

    def argv_map(self, key: str) -> dict[str, tuple[str, ...]]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self._fail(key, f"must be a table of name = [argv...], not {value!r}")
        out: dict[str, tuple[str, ...]] = {}
        for name, argv in value.items():
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise self._fail(f"{key}.{name}", f"must be a non-empty list of strings, not {argv!r}")
            out[name] = tuple(argv)
        return out


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
    return DevelContract(
        toolchain=r.argv_map("toolchain"),
        python_headers=r.flag("python_headers", True),
        source_dirs=r.strs("source_dirs"),
        source_markers=r.strs("source_markers"),
    )


def _demo(r: _Reader) -> DemoContract:
    train = r.opt_str("train")
    known = demo_names()
    if train is not None and train not in known:
        raise ManifestError(r.path, r._name("train"), f"unknown demo {train!r} (known: {', '.join(known)})")
    return DemoContract(packages=r.strs("packages"), commands=r.strs("commands"), train=train)
