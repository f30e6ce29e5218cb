"""The CycloneDX SBOM per variant (report/sbom.py): valid against the strict 1.6 schema, the image as
its subject, a purl per pip and dpkg package, paddle and CUDA marked; one file per engine only where
the engines' images differ; the components' diff of ``--baseline``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from paddle_verify.report import sbom

from .conftest import REFERENCE, InnerRun

ENTRY: dict[str, Any] = {
    "image": "example/paddle:3.3.1-gpu",
    "id": "sha256:" + "ab" * 32,
    "repo_digests": ["example/paddle@sha256:" + "cd" * 32],
    "architecture": "amd64",
    "python_packages": {"paddlepaddle-gpu": "2.6.2", "nvidia-cudnn-cu11": "8.9.2.26", "Opt_Einsum": "3.3.0"},
    "debian_packages": {"libc6": "2.36-9+deb12u10", "libc6:i386": "2.36-9+deb12u10", "tzdata": "2025b-0+deb12u1"},
    "debian_arch": {"libc6": "amd64", "libc6:i386": "i386", "tzdata": "all"},
    "os_release": {"ID": "debian", "VERSION_ID": "12", "PRETTY_NAME": "Debian GNU/Linux 12 (bookworm)"},
}


def _roles(doc: dict[str, Any]) -> dict[str, str]:
    return {c["purl"]: p["value"] for c in doc["components"] for p in c.get("properties", []) if p["name"] == sbom.ROLE}


def test_an_sbom_names_the_image_and_every_package() -> None:
    text = sbom.render("gpu", ENTRY)
    assert sbom.validate(text) is None
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    subject = doc["metadata"]["component"]
    assert subject["type"] == "container"
    assert subject["name"] == "example/paddle:3.3.1-gpu"
    assert subject["version"] == ENTRY["id"]
    props = {(p["name"], p["value"]) for p in subject["properties"]}
    assert ("paddle-verify:repo_digest", ENTRY["repo_digests"][0]) in props
    purls = {c["purl"] for c in doc["components"]}
    assert purls == {
        "pkg:pypi/paddlepaddle-gpu@2.6.2",
        "pkg:pypi/nvidia-cudnn-cu11@8.9.2.26",
        "pkg:pypi/opt-einsum@3.3.0",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=amd64&distro=debian-12",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u10?arch=i386&distro=debian-12",
        "pkg:deb/debian/tzdata@2025b-0%2Bdeb12u1?arch=all&distro=debian-12",
    }
    assert _roles(doc) == {"pkg:pypi/paddlepaddle-gpu@2.6.2": "paddle", "pkg:pypi/nvidia-cudnn-cu11@8.9.2.26": "cuda"}
    (root,) = [d for d in doc["dependencies"] if d["ref"] == subject["bom-ref"]]
    assert len(root["dependsOn"]) == len(purls), "the image does not list every component it holds"


def test_an_invalid_sbom_is_named() -> None:
    doc = json.loads(sbom.render("gpu", ENTRY))
    doc["components"][0]["type"] = "not-a-type"
    assert sbom.validate(json.dumps(doc)) is not None


def test_one_file_per_engine_only_where_the_images_differ() -> None:
    other = {**ENTRY, "id": "sha256:" + "ef" * 32}
    files = sbom.files({"cpu@a": ENTRY, "cpu@b": ENTRY, "gpu@a": ENTRY, "gpu@b": other, "demo": {"id": "x"}})
    assert sorted(files) == ["sbom/cpu.cdx.json", "sbom/gpu@a.cdx.json", "sbom/gpu@b.cdx.json"]


def test_the_components_diff() -> None:
    before = json.loads(sbom.render("cpu", ENTRY))
    now_entry = {
        **ENTRY,
        "python_packages": {"paddlepaddle-gpu": "2.6.3", "nvidia-cudnn-cu11": "8.9.2.26", "numpy": "1.26.4"},
    }
    change = sbom.diff(before, json.loads(sbom.render("cpu", now_entry)))
    assert change == {
        "added": {"pkg:pypi/numpy": "1.26.4"},
        "removed": {"pkg:pypi/opt-einsum": "3.3.0"},
        "changed": {"pkg:pypi/paddlepaddle-gpu": ["2.6.2", "2.6.3"]},
    }
    assert sbom.line(change).startswith("sbom +1 -1 ~1 (+pkg:pypi/numpy, -pkg:pypi/opt-einsum, ")


def test_the_cpu_reference_sbom_validates(
    reference_images: dict[str, str], run_checks: Callable[..., InnerRun]
) -> None:
    run = run_checks("--manifest", str(REFERENCE), "--variant", "cpu", "-k", "kernel", "-m", "not ssh")
    assert run.ret == 0, run.stdout[-3000:]
    text = (run.path / "reports" / "sbom" / "cpu.cdx.json").read_text()
    assert sbom.validate(text) is None, "the cpu reference's SBOM fails CycloneDX 1.6's strict schema"
    doc = json.loads(text)
    purls = {c["purl"] for c in doc["components"]}
    assert "pkg:pypi/paddlepaddle@3.3.1" in purls
    debian = [p for p in purls if p.startswith("pkg:deb/debian/")]
    assert any(p.startswith("pkg:deb/debian/libgomp1@") and "distro=debian-12" in p for p in debian), debian
    assert _roles(doc)["pkg:pypi/paddlepaddle@3.3.1"] == "paddle"
    facts = json.loads((run.path / "reports" / "facts.json").read_text())["variants"]["cpu"]
    assert doc["metadata"]["component"]["version"] == facts["id"]
    assert len(doc["components"]) == len(facts["python_packages"]) + len(facts["debian_packages"])
    assert "sbom/ (1 CycloneDX SBOM)" in run.stdout
