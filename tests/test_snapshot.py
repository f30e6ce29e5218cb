"""The facts snapshot (reports/facts.json): what the probe lists is what pip and dpkg list; a run
writes every variant's image, its Python, packages, build lines, paddle and timings, a secret's value hidden."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .conftest import REFERENCE, REFERENCE_PY27, ImageFactory, InnerRun, prerequisite
from .test_probe import base_config, run_probe


def test_probe_lists_what_pip_and_dpkg_list(tmp_path: Path) -> None:
    packages = run_probe(base_config(tmp_path, "true\n"))["packages"]
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json", "--disable-pip-version-check"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    assert packages["python"] == {p["name"]: p["version"] for p in json.loads(pip.stdout)}
    dpkg = shutil.which("dpkg-query")
    prerequisite(dpkg is not None, "dpkg-query is not on this host (not a Debian host)")
    assert dpkg is not None
    listed = subprocess.run(
        [dpkg, "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n"],
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout  # fmt: skip
    installed = {
        name: version for name, version, st in (ln.split("\t") for ln in listed.splitlines()) if st[:2] == "ii"
    }
    assert {k.split(":")[0]: v for k, v in packages["debian"].items()} == installed


def test_a_run_writes_the_facts_of_each_variant(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun]
) -> None:
    token = "hunter2-token-value"
    image = build_image("snapshot-env", f"FROM {reference_images['cpu']}\nENV API_TOKEN={token} PADDLE_X=1\n")
    run = run_checks("--manifest", str(REFERENCE), "--image", f"cpu={image}", "-k", "kernel", "-m", "not ssh")
    assert run.ret == 0, run.stdout[-3000:]
    text = (run.path / "reports" / "facts.json").read_text()
    assert token not in text, "facts.json shows a secret's value"
    facts = json.loads(text)
    assert facts["version"] == 1
    cpu = facts["variants"]["cpu"]
    assert cpu["missing"] == []
    assert cpu["image"] == image
    assert cpu["id"].startswith("sha256:")
    assert cpu["size"] > 0
    assert cpu["layers"] >= 2
    assert cpu["cmd"] == ["/bin/bash"]
    assert cpu["env"]["API_TOKEN"] == "***"
    assert cpu["env"]["PADDLE_X"] == "1"
    assert cpu["python"].startswith("3.11."), cpu["python"]
    assert cpu["python_packages"]["paddlepaddle"] == "3.3.1"
    assert "libgomp1" in cpu["debian_packages"]
    assert cpu["build"]["with_gpu"] == "OFF"
    assert cpu["paddle"]["version"] == cpu["paddle"]["launcher_version"] == "3.3.1"
    assert cpu["paddle"]["commit"]
    assert cpu["timings"]["container_start_seconds"] > 0
    assert cpu["timings"]["import_paddle_seconds"] > 0
    assert "facts.json" in run.stdout


def test_facts_show_the_python_27_era(
    py27_reference_images: dict[str, str], run_checks: Callable[..., InnerRun]
) -> None:
    run = run_checks("--manifest", str(REFERENCE_PY27), "--variant", "py27", "-k", "kernel", "-m", "not ssh")
    assert run.ret == 0, run.stdout[-3000:]
    cpu = json.loads((run.path / "reports" / "facts.json").read_text())["variants"]["py27"]
    assert cpu["python"].startswith("2.7."), cpu["python"]
    assert cpu["paddle"]["version"] == cpu["paddle"]["launcher_version"] == "1.8.5"
    assert cpu["python_packages"]["paddlepaddle"] == "1.8.5"
    assert cpu["build"]["with_gpu"] == "OFF"
