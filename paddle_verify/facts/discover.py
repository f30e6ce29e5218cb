"""Reading an image for ``paddle-verify init``: the gate's own probe (:mod:`.probe`,
``inimage/probe.py``), run once on a contract of *candidates*, so that what init keeps is what
the gate will see.

Owns: the candidates (packages, commands, tools, source trees, CUDA libraries that the suite
knows of), the candidate variant (a manifest read by the loader, as any other) and
:func:`read_image`: the image inspected, the probe run with the first Python of
:data:`PYTHONS` the image has. What is kept of the facts is :mod:`.keep`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import docker.errors

from ..engine import EngineError, Session, daemon_error
from ..manifest import Variant, parse
from .image import ImageFacts
from .probe import ImageSettings, PythonMissing, image_of, probe_image
from .schema import ImageInspect

PYTHONS = ("python3", "python", "python2")
RUNTIME_PACKAGES = ("paddle", "paddle.inference", "paddle.fluid", "py_paddle", "numpy")
RUNTIME_COMMANDS = ("python", "pip", "python3", "pip3")
DEMO_PACKAGES = ("bs4", "docopt", "yaml", "matplotlib")
DEMO_COMMANDS = ("wget", "unzip", "perl", "dot")
DEMO_TRAIN = "fit_a_line"
TOOLCHAIN: dict[str, list[str]] = {
    "gcc": ["gcc", "--version"],
    "g++": ["g++", "--version"],
    "cmake": ["cmake", "--version"],
    "make": ["make", "--version"],
    "swig": ["swig", "-version"],
    "m4": ["m4", "--version"],
    "protoc": ["protoc", "--version"],
    "git": ["git", "--version"],
}
SOURCE_DIRS = ("/paddle", "/root/paddle", "/usr/src/paddle", "/opt/paddle")
SOURCE_MARKERS = ("python/paddle/__init__.py", "CMakeLists.txt", "paddle/scripts")
# What paddle dlopens by name (CUDA 11/12, cuDNN 8's parts and cuDNN 9's), and the CUDA runtimes
# to try, newest first.
CUDA_LIBRARIES = (
    "libcublas.so",
    "libcublasLt.so",
    "libcudnn.so",
    "libcufft.so",
    "libcurand.so",
    "libcusolver.so",
    "libcusparse.so",
    "libnvrtc.so",
    "libnccl.so",
    *(f"libcudnn_{p}_{k}.so.8" for p in ("ops", "cnn", "adv") for k in ("infer", "train")),
    *(f"libcudnn_{p}.so.9" for p in ("ops", "cnn", "adv", "graph")),
)
CUDA_RUNTIMES = (
    "libcudart.so.13",
    "libcudart.so.12",
    "libcudart.so.11.0",
    "libcudart.so.10.2",
    "libcudart.so.10.1",
    "libcudart.so.10.0",
    "libcudart.so.9.0",
    "libcudart.so.8.0",
    "libcudart.so.7.5",
)
ENV = {"PADDLE_NO_STAT": "1"}


class ReadError(EngineError):
    """The image could not be read (absent, not pullable, no Python, the probe failed)."""


@dataclass(frozen=True)
class Request:
    """What init was asked: the image, the variant's name and role, the flavour (None: as found)."""

    image: str
    variant: str
    role: str
    flavour: str | None = None
    pythons: Sequence[str] = PYTHONS

    @property
    def cuda(self) -> bool:
        """Whether to look for CUDA: a gpu image, or one whose flavour is not given."""
        return self.flavour != "cpu"


def has_role(role: str, wanted: str) -> bool:
    order = ("runtime", "devel", "demo")
    return order.index(role) >= order.index(wanted)


def candidate_manifest(request: Request, python: str) -> dict[str, Any]:
    """A manifest (as TOML would give it) whose contract lists every candidate."""
    contract: dict[str, Any] = {
        "runtime": {
            "launcher": "paddle",
            "launcher_subcommands": ["version"],
            "commands": list(RUNTIME_COMMANDS),
            "packages": list(RUNTIME_PACKAGES),
            "py_paddle_init": True,
            "computation": True,
            "env": dict(ENV),
            "cuda_libraries": list(CUDA_LIBRARIES) if request.cuda else [],
        },
        "devel": {
            "toolchain": {name: list(argv) for name, argv in TOOLCHAIN.items()},
            "source_dirs": list(SOURCE_DIRS),
            "source_markers": list(SOURCE_MARKERS),
        },
        "demo": {"packages": list(DEMO_PACKAGES), "commands": list(DEMO_COMMANDS), "train": DEMO_TRAIN},
    }
    image = request.image.replace("{", "{{").replace("}", "}}")
    return {
        "suite": {"name": "init-candidates", "image": image, "python": python},
        "contract": contract,
        "variants": {request.variant: {"flavour": "gpu" if request.cuda else "cpu", "role": request.role}},
    }


def candidate_variant(request: Request, python: str) -> Variant:
    return parse(candidate_manifest(request, python), "<paddle-verify init candidates>").variants[request.variant]


def read_image(session: Session, request: Request, *, timeout: float, pull: bool = False) -> ImageFacts:
    """The probe's facts of ``request.image`` with the candidates' contract, or :class:`ReadError`."""
    variant = candidate_variant(request, request.pythons[0])
    try:
        image = image_of(session, variant, pull)
    except docker.errors.APIError as exc:
        raise ReadError(f"image {request.image}: {daemon_error(exc)}") from None
    except EngineError as exc:
        raise ReadError(str(exc).removeprefix(f"{variant.name}: ")) from None
    settings = ImageSettings(timeout=timeout, cuda_runtimes=CUDA_RUNTIMES if request.cuda else (), secrets=False)
    tried: list[str] = []
    for python in request.pythons:
        facts = ImageFacts(variant=candidate_variant(request, python))
        facts.inspect_raw = cast(ImageInspect, image.attrs)
        try:
            probe_image(session, facts, settings)
        except PythonMissing as exc:
            tried.append(str(exc))
            continue
        except docker.errors.APIError as exc:
            raise ReadError(f"image {request.image}: the engine refused: {daemon_error(exc)}") from None
        except EngineError as exc:
            raise ReadError(f"image {request.image}: the probe failed with {python}: {exc}") from None
        return facts
    raise ReadError(f"image {request.image}: no Python to run the probe: {'; '.join(tried)}")
