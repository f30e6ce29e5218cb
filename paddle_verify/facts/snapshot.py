"""The facts snapshot of a run (``reports/facts.json``): what each variant's image is, as the
gathering found it, for the record and for the next release to be compared with.

Per variant: the image (ID, repository digests, size, layer count, default command, user,
exposed ports, environment, layers' diff_ids: ``docker image inspect``), its Python's version, its
Python and Debian packages with their versions (and the Debian packages' architectures, the
distribution of ``/etc/os-release``: what ``report/sbom.py`` needs), ``paddle version``'s build
lines, paddle's version and commit, and the time to start a container and to ``import paddle``.
Nothing more is gathered for it: the probe's
one exec and the image's inspect already hold it. A part that could not be gathered is null
and its reason is in ``missing``; a secret's value in the environment is ``***``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from . import secrets
from .image import ImageFacts
from .missing import FactMissing
from .schema import PaddleBuild

VERSION = 1
T = TypeVar("T")


def snapshot(facts: ImageFacts) -> dict[str, Any]:
    """One variant's entry of ``facts.json``."""
    missing: list[str] = []

    def part(read: Callable[[], T]) -> T | None:
        try:
            return read()
        except FactMissing as exc:
            if str(exc) not in missing:
                missing.append(str(exc))
            return None

    inspect = part(lambda: facts.inspect) or {}
    config = inspect.get("Config") or {}
    env = secrets.parse_env(config.get("Env"))
    packages = part(lambda: facts.packages)
    version = part(lambda: facts.paddle_version)
    imports = part(lambda: facts.imports)
    paddle: PaddleBuild = (imports["paddle"] if imports else None) or {}
    return {
        "image": facts.variant.image,
        "id": inspect.get("Id"),
        "repo_digests": inspect.get("RepoDigests") or [],
        "size": inspect.get("Size"),
        "architecture": inspect.get("Architecture"),
        "layers": len((inspect.get("RootFS") or {}).get("Layers") or []) if inspect else None,
        "cmd": config.get("Cmd"),
        "entrypoint": config.get("Entrypoint"),
        "user": config.get("User") or "",
        "workdir": config.get("WorkingDir") or "",
        "exposed_ports": sorted(config.get("ExposedPorts") or {}),
        "env": {k: secrets.HIDDEN if secrets.is_secret(k, v) else v for k, v in env.items()} if inspect else None,
        "python": part(lambda: facts.python_version),  # the image's Python, X.Y.Z
        "python_packages": packages["python"] if packages else None,
        "debian_packages": packages["debian"] if packages else None,
        "debian_arch": packages.get("debian_arch") if packages else None,
        "os_release": packages.get("os_release") if packages else None,
        "diff_ids": (inspect.get("RootFS") or {}).get("Layers") or [],
        "build": version.build if version else None,
        "paddle": {
            "launcher_version": version.version if version else None,  # what `paddle version` says
            "version": paddle.get("version"),
            "commit": paddle.get("commit"),
        },
        "timings": {
            "container_start_seconds": facts.start_seconds,
            "import_paddle_seconds": paddle.get("import_seconds"),
        },
        "missing": missing,
    }


def snapshots(gathered: Iterable[ImageFacts]) -> dict[str, Any]:
    """The content of ``facts.json``: every gathered variant's entry, by variant (``cpu``, ``cpu@b``)."""
    return {"version": VERSION, "variants": {f.variant.id: snapshot(f) for f in gathered}}
