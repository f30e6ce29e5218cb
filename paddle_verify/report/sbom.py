"""The CycloneDX SBOM of each variant's image (``<report-dir>/sbom/<variant>.cdx.json``, CycloneDX 1.6
JSON through cyclonedx-python-lib), built from the run's facts snapshot (``facts.json``'s entry of the
variant: ``facts/snapshot.py``), nothing gathered again.

Owns: the SBOM of one snapshot (:func:`render`: the image as the subject, ``metadata.component``
with its name, image ID and repository digests; a component per pip package, ``pkg:pypi/NAME@VERSION``,
and per dpkg package, ``pkg:deb/debian/NAME@VERSION?arch=ARCH&distro=debian-12``; paddle and the CUDA
libraries marked by the property ``paddle-verify:role`` = ``paddle`` | ``cuda``), the files of a run
(:func:`files`: one per variant, or one per variant and engine where the engines' images differ),
the strict schema validation (:func:`validate`) and the diff of two SBOMs' components (:func:`diff`,
for ``--baseline``).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from cyclonedx.model import HashAlgorithm, HashType, Property
from cyclonedx.model.bom import Bom
from cyclonedx.model.component import Component, ComponentType
from cyclonedx.output.json import JsonV1Dot6
from packageurl import PackageURL

FOLDER = "sbom"  # under the report directory
ROLE = "paddle-verify:role"
PADDLE = {"paddlepaddle", "paddlepaddle-gpu"}  # pip names, normalised
CUDA_DEBIAN = re.compile(r"^(cuda-|libcudnn|libnccl|libcublas|libcufft|libcurand|libcusolver|libcusparse|libnvrtc)")


def _pep503(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def role(kind: str, name: str) -> str | None:
    """``paddle`` for paddle's own package, ``cuda`` for a CUDA library (``nvidia-*`` on pip; Debian's
    ``cuda-*``, ``libcudnn*``, ...), else None."""
    if kind == "pypi":
        norm = _pep503(name)
        return "paddle" if norm in PADDLE else "cuda" if norm.startswith("nvidia-") else None
    return "cuda" if CUDA_DEBIAN.match(name) else None


def _component(purl: PackageURL, kind: str, name: str, version: str) -> Component:
    marked = role(kind, name)
    return Component(
        name=name,
        version=version,
        type=ComponentType.LIBRARY,
        purl=purl,
        bom_ref=purl.to_string(),
        properties=[Property(name=ROLE, value=marked)] if marked else None,
    )


def _distro(entry: Mapping[str, Any]) -> tuple[str, str | None]:
    """The purl namespace (``debian``) and ``distro`` qualifier (``debian-12``) of the image's dpkg packages."""
    release = entry.get("os_release") or {}
    ident = str(release.get("ID") or "debian")
    version = release.get("VERSION_ID")
    return ident, f"{ident}-{version}" if version else None


def components(entry: Mapping[str, Any]) -> list[Component]:
    """A component per pip and dpkg package of a snapshot entry, sorted by purl."""
    found: list[Component] = []
    for name, version in (entry.get("python_packages") or {}).items():
        found.append(_component(PackageURL("pypi", None, _pep503(name), version), "pypi", name, version))
    namespace, distro = _distro(entry)
    arches = entry.get("debian_arch") or {}
    default_arch = entry.get("architecture")
    for key, version in (entry.get("debian_packages") or {}).items():
        name, _, suffix = key.partition(":")  # `libc6:i386` when multiarch lists a package twice
        qualifiers = {"arch": arches.get(key) or suffix or default_arch, "distro": distro}
        purl = PackageURL("deb", namespace, name, version, {k: v for k, v in qualifiers.items() if v})
        found.append(_component(purl, "deb", name, version))
    return sorted(found, key=lambda c: str(c.bom_ref))


def _suite_version() -> str:
    try:
        return metadata.version("paddle-verify")
    except metadata.PackageNotFoundError:
        return "unknown"


def bom(variant: str, entry: Mapping[str, Any]) -> Bom:
    """The SBOM of one variant's image (``entry``: its snapshot in ``facts.json``)."""
    image_id = str(entry.get("id") or "")
    props = [Property(name="paddle-verify:variant", value=variant)]
    props += [Property(name="paddle-verify:image_id", value=image_id)] if image_id else []
    props += [Property(name="paddle-verify:repo_digest", value=d) for d in entry.get("repo_digests") or []]
    release = entry.get("os_release") or {}
    if release.get("PRETTY_NAME"):
        props.append(Property(name="paddle-verify:os", value=str(release["PRETTY_NAME"])))
    algorithm, _, digest = image_id.partition(":")
    subject = Component(
        name=str(entry.get("image") or variant),
        version=image_id or None,
        type=ComponentType.CONTAINER,
        bom_ref=f"image:{variant}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=digest)] if algorithm == "sha256" and digest else None,
        properties=props,
    )
    parts = components(entry)
    doc = Bom(components=parts)
    doc.metadata.component = subject
    doc.metadata.tools.components.add(
        Component(name="paddle-verify", version=_suite_version(), type=ComponentType.APPLICATION)
    )
    doc.register_dependency(subject, parts)
    return doc


def render(variant: str, entry: Mapping[str, Any]) -> str:
    """The SBOM of one variant, CycloneDX 1.6 JSON."""
    with warnings.catch_warnings():  # the library warns of what an image SBOM leaves out by design
        warnings.simplefilter("ignore", UserWarning)
        text: str = JsonV1Dot6(bom(variant, entry)).output_as_string(indent=2)
    return text + "\n"


def validate(text: str) -> str | None:
    """None when ``text`` is valid CycloneDX 1.6 JSON (the strict schema), else the error."""
    from cyclonedx.schema import SchemaVersion  # imported here: jsonschema's import takes seconds
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    return None if error is None else str(error)


def files(variants: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """The SBOM files of a run, ``sbom/<name>.cdx.json`` -> text, from ``facts.json``'s variants (by id:
    ``cpu``, ``cpu@b``). A variant checked on several engines gets one file (``cpu``) when every engine
    ran the same image ID, else one per engine (``cpu@a``, ``cpu@b``). A variant with no packages
    gathered (its probe failed) gets none."""
    by_name: dict[str, dict[str, Mapping[str, Any]]] = {}
    for vid, entry in variants.items():
        if entry.get("python_packages") is not None or entry.get("debian_packages") is not None:
            by_name.setdefault(vid.split("@")[0], {})[vid] = entry
    out: dict[str, str] = {}
    for name, entries in by_name.items():
        ids = {e.get("id") for e in entries.values()}
        if len(ids) == 1:
            vid, entry = next(iter(entries.items()))
            out[f"{FOLDER}/{name}.cdx.json"] = render(name, entry)
        else:
            out.update({f"{FOLDER}/{vid}.cdx.json": render(vid, e) for vid, e in entries.items()})
    return out


def versions(doc: Mapping[str, Any]) -> dict[str, str]:
    """An SBOM's components: the purl without version or qualifiers (``pkg:pypi/numpy``) -> version."""
    found: dict[str, str] = {}
    for comp in doc.get("components") or []:
        if comp.get("purl"):
            purl = PackageURL.from_string(comp["purl"])
            key = "/".join(p for p in (f"pkg:{purl.type}", purl.namespace, purl.name) if p)
            found[key] = str(purl.version or comp.get("version") or "")
    return found


def stored(baseline: Path, variant: str) -> dict[str, Any] | None:
    """The SBOM a baseline run wrote beside its ``facts.json`` for ``variant`` (by id, else name), or None."""
    for name in (variant, variant.split("@")[0]):
        path = baseline.parent / FOLDER / f"{name}.cdx.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict):
            return data
    return None


def diff(before: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, Any]:
    """Components added, removed and changed (purl -> version, or [old, new]) between two SBOMs."""
    old, new = versions(before), versions(now)
    return {
        "added": {k: v for k, v in sorted(new.items()) if k not in old},
        "removed": {k: v for k, v in sorted(old.items()) if k not in new},
        "changed": {k: [v, new[k]] for k, v in sorted(old.items()) if k in new and new[k] != v},
    }


def line(change: Mapping[str, Any]) -> str:
    """The diff in one line, for the terminal."""
    shown = [f"+{k}" for k in change["added"]][:2] + [f"-{k}" for k in change["removed"]][:2]
    shown += [f"{k} {a} -> {b}" for k, (a, b) in list(change["changed"].items())[:2]]
    counts = f"+{len(change['added'])} -{len(change['removed'])} ~{len(change['changed'])}"
    return f"sbom {counts}" + (f" ({', '.join(shown)})" if shown else "")
