"""The manifests shipped with the plugin (``paddle_verify/data/*.toml``), by name, and what
``--manifest`` names: a shipped manifest's name (``paddlepaddle``) or a path to a TOML file."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

DEFAULT = "paddledev"  # the install page's six images (2016)


def shipped() -> dict[str, Path]:
    """Every shipped manifest, by name (its file name without ``.toml``), sorted."""
    folder = resources.files("paddle_verify").joinpath("data")
    found = {p.name[: -len(".toml")]: Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml")}
    return dict(sorted(found.items()))


def resolve(given: str | None, cwd: Path) -> Path:
    """The manifest ``--manifest`` names: the default when none, a shipped one by its name, else a path
    (relative to ``cwd``). A name that is neither raises :class:`LookupError` naming the choices."""
    names = shipped()
    if not given:
        return names[DEFAULT]
    if given in names:
        return names[given]
    path = Path(cwd, given)
    if path.suffix == ".toml" or path.exists() or "/" in given:
        return path
    raise LookupError(
        f"--manifest {given}: neither a shipped manifest ({', '.join(names)}) nor a file: no such file {path}"
    )
