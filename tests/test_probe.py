"""The probe and the parsers, run on this host (no engine): facts, deadlines, failures."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from paddle_verify import inimage
from paddle_verify.facts import parse_kernel, parse_version
from paddle_verify.facts.probe import MARKER, probe_config
from paddle_verify.manifest import load
from paddle_verify.plugin.selection import packaged_manifest

ROOT = Path(__file__).resolve().parents[1]
PATTERN = load(packaged_manifest()).variants["cpu"].runtime.version_pattern

HISTORICAL = """PaddlePaddle 0.8.0b1, compiled with
    with_avx: ON
    with_gpu: OFF
    with_double: OFF
    with_python: ON
"""
TODAY = "PaddlePaddle 3.3.1, compiled with\n    with_avx: ON\n    with_gpu: OFF\n    with_mkl: ON\n"


def test_parse_version_historical_and_today() -> None:
    old = parse_version(HISTORICAL, PATTERN)
    assert old.version == "0.8.0b1"
    assert old.build == {"with_avx": "ON", "with_gpu": "OFF", "with_double": "OFF", "with_python": "ON"}
    new = parse_version("Paddle release a new version 9\n" + TODAY, PATTERN)
    assert new.version == "3.3.1"
    assert new.build["with_gpu"] == "OFF"
    assert parse_version("bash: paddle: command not found", PATTERN).version is None


@pytest.mark.parametrize(
    ("release", "expected"),
    [("6.18.44-fc-v657", (6, 18)), ("3.10.0-1160.el7.x86_64", (3, 10)), ("2.6.32", (2, 6)), ("", (0, 0))],
)
def test_parse_kernel(release: str, expected: tuple[int, int]) -> None:
    assert parse_kernel(release) == expected


def run_probe(cfg: dict[str, Any], timeout: float = 60) -> dict[str, Any]:
    proc = subprocess.run(
        inimage.probe_argv(sys.executable, "probe.py", cfg),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(MARKER)]
    assert lines, proc.stdout + proc.stderr
    facts: dict[str, Any] = json.loads(lines[-1][len(MARKER) :])
    return facts


def base_config(tmp_path: Path, launcher_body: str, *, mode: int = 0o755, **extra: Any) -> dict[str, Any]:
    launcher = tmp_path / "fake-paddle"
    launcher.write_text("#!/bin/sh\n" + launcher_body)
    launcher.chmod(mode)
    return {
        "launcher": str(launcher),
        "launcher_subcommands": ["version"],
        "commands": ["sh", "no-such-command-here"],
        "packages": ["json", "no_such_module_here"],
        "py_paddle_init": False,
        "computation": False,
        "env": {"PADDLE_NO_STAT": "1"},
        "timeout": 5,
        "devel": None,
        "demo_train": None,
        **extra,
    }


def test_probe_gathers_facts_in_one_process(tmp_path: Path) -> None:
    facts = run_probe(base_config(tmp_path, f"echo '{TODAY}'\n"))
    run = facts["launcher_runs"]["version"]
    assert run["rc"] == 0
    assert parse_version(run["stdout"], PATTERN).version == "3.3.1"
    assert facts["commands"]["sh"]["executable"]
    assert facts["commands"]["no-such-command-here"]["path"] is None
    packages = facts["imports"]["data"]["packages"]
    assert packages["json"]["ok"]
    assert packages["json"]["version"]
    assert not packages["no_such_module_here"]["ok"]
    assert "No module named" in packages["no_such_module_here"]["error"]


def test_probe_passes_the_contract_env(tmp_path: Path) -> None:
    facts = run_probe(base_config(tmp_path, 'echo "stat=${PADDLE_NO_STAT:-unset}"\n'))
    assert facts["launcher_runs"]["version"]["stdout"].strip() == "stat=1"


def test_hung_launcher_is_killed_at_its_deadline(tmp_path: Path) -> None:
    cfg = base_config(tmp_path, "exec sleep 60\n", timeout=1)
    start = time.monotonic()
    facts = run_probe(cfg, timeout=30)
    run = facts["launcher_runs"]["version"]
    assert run["timed_out"]
    assert "no answer within 1s" in run["error"]
    assert time.monotonic() - start < 10
    assert facts["imports"]["data"]["packages"]["json"]["ok"], "the other steps went on"


def test_launcher_without_exec_bit(tmp_path: Path) -> None:
    facts = run_probe(base_config(tmp_path, "echo hi\n", mode=0o644))
    assert facts["commands"][str(tmp_path / "fake-paddle")]["executable"] is False
    assert "Permission denied" in facts["launcher_runs"]["version"]["error"]


def test_devel_facts(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "paddle").mkdir(parents=True)
    (src / "CMakeLists.txt").write_text("project(paddle)\n")
    devel = {
        "toolchain": [["sh", ["sh", "-c", "echo sh"]], ["nope", ["no-such-compiler", "--version"]]],
        "source_dirs": [str(tmp_path / "absent"), str(src)],
        "source_markers": ["CMakeLists.txt", "paddle"],
    }
    facts = run_probe(base_config(tmp_path, "true\n", devel=devel))
    tools = facts["devel"]["toolchain"]
    assert tools["sh"]["rc"] == 0
    assert "No such file" in tools["nope"]["error"]
    absent, present = facts["devel"]["sources"]
    assert not absent["exists"]
    assert present["markers"] == {"CMakeLists.txt": True, "paddle": True}
    assert present["files"] == 1


def test_probe_config_follows_the_contract() -> None:
    variants = load(ROOT / "variants" / "reference.toml").variants
    runtime = probe_config(variants["cpu"], 7)
    assert runtime["devel"] is None
    assert runtime["demo_train"] is None
    assert runtime["timeout"] == 7
    demo = probe_config(variants["cpu-demo"], 7)
    assert "docopt" in demo["packages"]
    assert "dot" in demo["commands"]
    assert "paddle.nn.Linear" in demo["demo_train"]
    assert ["cmake", ["cmake", "--version"]] in demo["devel"]["toolchain"]


def test_discovery_takes_the_first_cuda_runtime_that_loads(tmp_path: Path) -> None:
    """The probe's discovery option (paddle-verify init): no runtime named, candidates tried in order."""
    cuda = {"libraries": ["libno-such-cuda.so"], "runtime": None, "runtime_candidates": ["libnope.so.9", "libc.so.6"]}
    found = run_probe(base_config(tmp_path, "true\n", cuda=cuda))["cuda"]["data"]
    assert found["runtime"] == "libc.so.6", found
    assert found["libraries"]["libno-such-cuda.so"]["ok"] is False
    assert "cudaRuntimeGetVersion" in found["runtime_error"], found  # libc is no CUDA runtime: said, not raised
    named = run_probe(base_config(tmp_path, "true\n", cuda={**cuda, "runtime": "libnope.so.9"}))["cuda"]["data"]
    assert named["runtime"] == "libnope.so.9", "a runtime the contract names is never replaced"


def children(scripts: list[str], timeout: float = 10) -> list[dict[str, Any]]:
    """``python_children`` of ``inimage/common.py`` run here, in this host's Python (as in an image)."""
    common = (ROOT / "paddle_verify" / "inimage" / "common.py").read_text()
    driver = "\nprint(json.dumps(python_children(json.loads(sys.argv[1]), {'n': 2}, float(sys.argv[2]), {})))\n"
    proc = subprocess.run(
        [sys.executable, "-c", common + driver, json.dumps(scripts), str(timeout)],
        capture_output=True,
        text=True,
        timeout=timeout + 30,
        check=True,
    )
    found: list[dict[str, Any]] = json.loads(proc.stdout)
    return found


FIRST = "import json, sys\nsys.stderr.write('warned\\n')\nprint(json.dumps({'first': json.loads(sys.argv[1])['n']}))\n"
SECOND = "import json, os\nos.write(2, b'from C\\n')\nprint('a line of its own')\nprint(json.dumps({'second': 1}))\n"


def test_children_share_one_interpreter_each_with_its_own_output() -> None:
    first, second = children([FIRST, "shared = 1\n" + FIRST, SECOND])[::2]
    assert first["data"] == {"first": 2}
    assert first["rc"] == 0
    assert first["error"] is None
    assert first["stderr"].strip() == "warned"
    assert "a line of its own" not in first["stdout"]
    assert second["data"] == {"second": 1}
    assert second["rc"] == 0
    assert second["stderr"].strip() == "from C", second  # a write to fd 2 below Python's buffer: its own part
    assert "a line of its own" in second["stdout"]
    assert "PADDLE_VERIFY" not in second["stdout"] + second["stderr"]


def test_a_child_that_crashes_costs_the_scripts_after_it_not_the_ones_before() -> None:
    first, crashed, never = children([FIRST, "import sys\nprint('half')\nsys.exit(3)\n", SECOND])
    assert first["data"] == {"first": 2}
    assert first["rc"] == 0
    assert crashed["rc"] == 3
    assert crashed["data"] is None
    assert "half" in crashed["stdout"]
    assert never["rc"] is None
    assert never["data"] is None
    assert never["error"] == "not run: the child interpreter ended in the script before it"


def test_a_child_past_the_deadline_is_timed_out_and_the_one_before_kept() -> None:
    first, hung = children([FIRST, "import time\ntime.sleep(30)\n"], timeout=2)
    assert first["data"] == {"first": 2}
    assert first["rc"] == 0
    assert not first["timed_out"]
    assert hung["timed_out"], hung
    assert "no answer within 2.0s" in (hung["error"] or ""), hung
    assert 1.5 < first["seconds"] + hung["seconds"] < 10
