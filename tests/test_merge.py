"""One report per job (``make check``): the runs of several manifests (variant-disjoint shards)
merged by ``paddle-verify merge`` into one ``summary.json``, ``junit.xml``, ``report.html`` and
``facts.json`` over every variant, with the worst run's exit status (report/merge.py,
scripts/check-manifests.sh)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import docker
import pytest

from paddle_verify.cli import main as cli_main

from .conftest import REFERENCE, REFERENCE_GPU, ROOT


def shard(directory: Path, variant: str, outcome: str, exit_status: int, fault: str | None = None) -> Path:
    """A report directory of a run that checked ``variant`` (one check), as the recorder writes it."""
    directory.mkdir(parents=True)
    row = {
        "variant": variant,
        "engine": "local",
        "check": "test_x",
        "nodeid": f"checks/test_x.py::test_x[{variant}]",
        "outcome": outcome,
        "message": "" if outcome == "passed" else f"{variant}: broken",
        "fault": fault,
        "duration": 0.1,
    }
    notes = {"engines": {"local": {"url": "unix:///var/run/docker.sock"}}, "variants": {variant: {"execs": 1}}}
    summary = {"manifest": f"{variant}.toml", "exit_status": exit_status, "wall_seconds": 1.0, "notes": notes}
    (directory / "summary.json").write_text(json.dumps({**summary, "results": [row]}))
    result = "" if outcome == "passed" else f'<failure message="{variant}: broken"/>'
    (directory / "junit.xml").write_text(
        f'<testsuites><testsuite name="pytest" tests="1"><testcase classname="checks.test_x" '
        f'name="test_x[{variant}]">{result}</testcase></testsuite></testsuites>'
    )
    (directory / "facts.json").write_text(json.dumps({"version": 1, "variants": {variant: {"image": variant}}}))
    return directory


def merged(tmp_path: Path, *shards: Path) -> tuple[int, dict[str, Any]]:
    code = cli_main(["merge", *map(str, shards), "-o", str(tmp_path / "out"), "--exit-status"])
    return code, json.loads((tmp_path / "out" / "summary.json").read_text())


def test_variant_disjoint_runs_merge_into_one_report_of_every_variant(tmp_path: Path) -> None:
    cpu = shard(tmp_path / "runs" / "reference", "cpu", "passed", 0)
    gpu = shard(tmp_path / "runs" / "reference-gpu", "gpu", "passed", 0)
    code, summary = merged(tmp_path, cpu, gpu)
    assert code == 0, f"cpu, gpu: all passed, merged exit {code}"
    assert summary["totals"] == {"cpu": {"passed": 1}, "gpu": {"passed": 1}}, summary["totals"]
    assert sorted(summary["notes"]["variants"]) == ["cpu", "gpu"], summary["notes"]
    facts = json.loads((tmp_path / "out" / "facts.json").read_text())
    assert sorted(facts["variants"]) == ["cpu", "gpu"], f"merged facts.json: {facts}"
    names = {c.get("name") for c in ET.parse(tmp_path / "out" / "junit.xml").getroot().iter("testcase")}
    assert names == {"test_x[cpu]", "test_x[gpu]"}, names
    html = (tmp_path / "out" / "report.html").read_text()
    columns = re.findall(r"<th[^>]*>([^<]*)</th>", html)
    assert "cpu" in columns, f"report.html: no cpu column: {columns}"
    assert "gpu" in columns, f"report.html: no gpu column: {columns}"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        (("passed", 0, None), ("failed", 1, "image"), 1),  # a failed check fails the job
        (("passed", 0, None), ("failed", 8, "host"), 8),  # only the host's failures: 8, as in one run
        (("failed", 1, "image"), ("failed", 8, "host"), 1),  # an image's failure outweighs the host's
        (("failed", 1, "image"), ("passed", 2, None), 2),  # a run stopped (2) keeps its code
    ],
    ids=["failed", "host-only", "image-over-host", "stopped"],
)
def test_the_merged_exit_status_is_the_worst_runs(
    tmp_path: Path, first: tuple[str, int, str | None], second: tuple[str, int, str | None], expected: int
) -> None:
    code, summary = merged(tmp_path, shard(tmp_path / "a", "cpu", *first), shard(tmp_path / "b", "gpu", *second))
    assert code == expected == summary["exit_status"], f"cpu {first}, gpu {second}: merged exit {code}"


def test_without_exit_status_a_merge_done_exits_0(tmp_path: Path) -> None:
    failed = shard(tmp_path / "a", "cpu", "failed", 1, "image")
    assert cli_main(["merge", str(failed), "-o", str(tmp_path / "out")]) == 0


def only(manifest: Path, variant: str, into: Path) -> Path:
    """``manifest`` with only ``variant`` left among its variants."""
    text = manifest.read_text(encoding="utf-8")
    text = re.sub(r"^\[variants\.(?!" + re.escape(variant) + r"\])[^\]]+\]\n(?:[^\[\n].*\n)*", "", text, flags=re.M)
    into.write_text(text, encoding="utf-8")
    return into


def test_make_checks_mechanism_leaves_one_report_of_both_manifests(
    reference_images: dict[str, str], gpu_reference_images: dict[str, str], docker_client: docker.DockerClient,
    tmp_path: Path,
) -> None:  # fmt: skip
    """scripts/check-manifests.sh, as `make check` runs it, on two small runs (a variant each)."""
    cpu = only(REFERENCE, "cpu", tmp_path / "reference.toml")
    gpu = only(REFERENCE_GPU, "gpu", tmp_path / "reference-gpu.toml")
    argv = ["bash", str(ROOT / "scripts" / "check-manifests.sh"), "reports", str(cpu), str(gpu), "--"]
    argv += ["-p", "no:cacheprovider", "-k", "kernel", "--exec-timeout", "300"]
    env = {**os.environ, "BIN": str(Path(sys.executable).parent)}
    proc = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert proc.returncode == 0, f"cpu, gpu: exit {proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-2000:]}"
    reports = tmp_path / "reports"
    summary = json.loads((reports / "summary.json").read_text())
    assert summary["totals"] == {"cpu": {"passed": 2}, "gpu": {"passed": 2}}, summary["totals"]
    assert summary["exit_status"] == 0
    assert summary["notes"]["gpu"]["allow_no_gpu"] is True, summary["notes"].get("gpu")
    facts = json.loads((reports / "facts.json").read_text())
    assert sorted(facts["variants"]) == ["cpu", "gpu"], sorted(facts["variants"])
    cases = ET.parse(reports / "junit.xml").getroot().iter("testcase")
    assert {c.get("name", "").split("[")[1].rstrip("]") for c in cases} == {"cpu", "gpu"}
    assert sorted(p.name for p in (reports / "runs").iterdir()) == ["reference", "reference-gpu"]
    assert "merged 2 shard(s) into reports" in proc.stdout, proc.stdout[-2000:]
