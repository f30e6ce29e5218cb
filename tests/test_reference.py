"""The reference images keep their contract: every check green, reports written, nothing left."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable

import docker

from .conftest import REFERENCE, InnerRun

CHECK_MODULES = {
    "test_kernel.py",
    "test_shell.py",
    "test_launcher.py",
    "test_version.py",
    "test_packages.py",
    "test_devel.py",
    "test_demo.py",
    "test_consistency.py",
    "test_secrets.py",
    "test_pip_check.py",
    "test_run_check.py",
    "test_ssh.py",
    "test_gpu.py",
}


def test_reference_images_pass_every_check(
    reference_images: dict[str, str], run_checks: Callable[..., InnerRun], docker_client: docker.DockerClient
) -> None:
    run = run_checks("--manifest", str(REFERENCE), "--variant", "all")
    assert run.ret == 0, f"reference images failed checks:\n{run.stdout[-4000:]}"
    assert run.summary is not None
    rows = run.summary["results"]
    assert {r["variant"] for r in rows} == set(reference_images)
    assert all(r["outcome"] == "passed" for r in rows), [r for r in rows if r["outcome"] != "passed"]
    assert {r["nodeid"].split("::")[0].split("/")[-1] for r in rows} == CHECK_MODULES
    # roles nest: demo runs the devel checks too, runtime runs neither
    by_variant = {v: {r["check"] for r in rows if r["variant"] == v} for v in reference_images}
    assert "test_tool_runs" in by_variant["cpu-demo"]
    assert "test_tool_runs" not in by_variant["cpu"]
    assert "test_demo_trains_and_loss_goes_down" in by_variant["cpu-demo"]
    assert by_variant["cpu"] < by_variant["cpu-devel"] < by_variant["cpu-demo"]
    assert run.leftovers(docker_client) == [], "the run left containers behind"


def test_reports_are_written(reference_images: dict[str, str], run_checks: Callable[..., InnerRun]) -> None:
    run = run_checks("--manifest", str(REFERENCE), "--variant", "cpu", "-k", "kernel or version")
    assert run.ret == 0, run.stdout[-3000:]
    reports = run.path / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["exit_status"] == 0
    row = summary["results"][0]
    # "accepted": only on a row whose findings the manifest accepts ([secrets], [pip_check] allow)
    assert set(row) - {"accepted"} == {
        *("variant", "engine", "check", "nodeid", "outcome", "message", "fault", "duration", "reused"),
    }
    assert row["engine"] == "local", f"cpu: the default engine is named local, found {row['engine']!r}"
    assert summary["faults"] == {"image": 0, "host": 0, "suite": 0}
    assert summary["notes"]["variants"]["cpu"]["execs"] == 1
    junit = ET.parse(reports / "junit.xml").getroot()
    cases = junit.findall(".//testcase")
    assert len(cases) == len(summary["results"])
    assert all(c.find("properties/property[@name='variant']") is not None for c in cases)
    html = (reports / "report.html").read_text()
    assert "paddle-verify: PASSED" in html
    assert "test_version_matches_tag" in html
