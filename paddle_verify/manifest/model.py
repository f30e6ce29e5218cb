"""The variant manifest: which images to check and what each one promises.

A manifest is a TOML file (read with :mod:`tomllib`) with three parts:

* ``[suite]``: the image template, the default tag and the image's Python;
* ``[contract.runtime]``, ``[contract.devel]``, ``[contract.demo]``: what an image
  of each role promises. Roles nest: a demo image keeps the devel and runtime
  contracts too, a devel image the runtime one;
* ``[variants.NAME]``: each variant's flavour (cpu/gpu) and role, and what it declares it
  carries (:class:`Carries`: its Python, a gpu variant's CUDA and cuDNN);
* ``[changes]`` (optional): the package changes since the baseline that are meant.

This module holds the model (variants and their contracts); :mod:`.loader` reads
the TOML. Every problem is a :class:`ManifestError` naming the file and the field.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

FLAVOURS = ("cpu", "gpu")
ROLES = ("runtime", "devel", "demo")
# [contract.devel] builds: what a devel image must build and run (inimage/devel.py)
DEVEL_BUILDS = ("c", "cxx", "python_extension", "custom_op", "cuda")
# Docker's own rule for a tag.
TAG_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
# A declared Python, CUDA or cuDNN version: MAJOR.MINOR ("3.10", "12.6", "9.13").
X_Y_RE = re.compile(r"^\d+\.\d+$")


class ManifestError(ValueError):
    """A manifest that cannot be used; the message names the file and the field."""

    def __init__(self, path: Path | str, field_name: str, problem: str) -> None:
        self.path = str(path)
        self.field = field_name
        self.problem = problem
        where = f"{self.path}: {field_name}" if field_name else self.path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class RuntimeContract:
    """What every image of the manifest promises (the install page's three parts)."""

    launcher: str
    launcher_subcommands: tuple[str, ...]
    commands: tuple[str, ...]
    packages: tuple[str, ...]
    version_pattern: str
    build_lines: tuple[str, ...]
    py_paddle_init: bool
    computation: bool
    env: Mapping[str, str]
    # gpu variants: the CUDA libraries the image must let paddle load (by the names it dlopens),
    # and the CUDA runtime library whose version the image carries (cudaRuntimeGetVersion)
    cuda_libraries: tuple[str, ...] = ()
    cuda_runtime: str | None = None
    # paddle's own install check (paddle.utils.run_check / fluid.install_check.run_check), judged by what
    # it prints: None (the default) runs it where the image's paddle has one; True requires it; False skips it
    run_check: bool | None = None

    @property
    def runs_run_check(self) -> bool:
        """Whether the probe runs paddle's install check (on unless the manifest says ``run_check = false``)."""
        return self.run_check is not False

    def shell_line(self, *args: str) -> str:
        """``K=v ... paddle ARGS`` as typed in a shell, every word quoted: the contract's env set."""
        words = [f"{k}={shlex.quote(v)}" for k, v in self.env.items()]
        return " ".join([*words, *(shlex.quote(a) for a in (self.launcher, *args))])


@dataclass(frozen=True)
class DevelContract:
    """The development environment and source tree of devel (and demo) images."""

    toolchain: Mapping[str, tuple[str, ...]]
    python_headers: bool
    source_dirs: tuple[str, ...]
    source_markers: tuple[str, ...]
    # what the image must build and run (inimage/devel.py), each one of DEVEL_BUILDS
    builds: tuple[str, ...] = ()
    c_compiler: str = "gcc"
    cxx_compiler: str = "g++"
    cuda_compiler: str | None = None  # the "cuda" build's compiler (gpu: "nvcc")


@dataclass(frozen=True)
class DemoContract:
    """What the demos need, and the demo that must train."""

    packages: tuple[str, ...]
    commands: tuple[str, ...]
    train: str | None


@dataclass(frozen=True)
class DeclaredChanges:
    """``[changes]``: packages that may be removed or change their major version since the
    baseline (``--baseline``), each with the reason."""

    python: Mapping[str, str] = field(default_factory=dict)
    debian: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Accepted:
    """``[secrets] allow`` and ``[pip_check] allow`` (read by :mod:`.accepted`): where -> the reason."""

    secrets: Mapping[str, str] = field(default_factory=dict)  # a variable name or a path
    pip_check: Mapping[str, str] = field(default_factory=dict)  # a package name (lower case, dashes)


@dataclass(frozen=True)
class Carries:
    """What a variant declares it carries, each checked against the image: the ``X.Y`` of its Python
    (``python_version``), a gpu variant's CUDA and cuDNN (``cuda``, ``cudnn``: as its tag names them,
    ``12.6`` and ``9.5``), and whether it has paddle at all. None: not declared, not checked."""

    python_version: str | None = None
    cuda: str | None = None
    cudnn: str | None = None
    paddle: bool = True  # False: a build image (the dev images): toolchains, no paddle installed


@dataclass(frozen=True)
class Variant:
    """One image variant: where its image is and the contract it must keep."""

    name: str
    flavour: str
    role: str
    image_template: str
    tag: str
    python: str
    runtime: RuntimeContract
    devel: DevelContract | None
    demo: DemoContract | None
    engine: str | None = None  # the engine it is checked on, in a run of several (--engine)
    changes: DeclaredChanges = field(default_factory=DeclaredChanges)
    carries: Carries = field(default_factory=Carries)
    accepted: Accepted = field(default_factory=lambda: Accepted())

    @property
    def id(self) -> str:
        """The test id: the variant's name, with its engine in a run of several (``cpu@gpu-a``)."""
        return f"{self.name}@{self.engine}" if self.engine else self.name

    def on(self, engine: str | None) -> Variant:
        """The same variant, checked on ``engine``."""
        return replace(self, engine=engine)

    @property
    def image(self) -> str:
        return self.image_template.format(tag=self.tag, variant=self.name)

    @property
    def expected_version(self) -> str | None:
        """The paddle version the tag names, or None for ``latest``."""
        return None if self.tag == "latest" else self.tag

    def has_role(self, role: str) -> bool:
        """Roles nest: demo ⊇ devel ⊇ runtime."""
        return ROLES.index(self.role) >= ROLES.index(role)

    def with_image(self, image: str) -> Variant:
        """The same variant, checked against another image reference."""
        return replace(self, image_template=image.replace("{", "{{").replace("}", "}}"))


@dataclass(frozen=True)
class Manifest:
    path: Path
    name: str
    default_tag: str
    variants: Mapping[str, Variant] = field(default_factory=dict)

    def select(self, names: list[str]) -> list[Variant]:
        """The variants named (``all`` for every one), in manifest order."""
        wanted: list[str] = []
        for name in names:
            if name == "all":
                wanted.extend(self.variants)
            elif name in self.variants:
                wanted.append(name)
            else:
                raise KeyError(name)
        return [self.variants[n] for n in self.variants if n in wanted]
