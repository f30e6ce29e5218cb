"""How fast the gate answers: `pytest checks/ --variant all` on the reference images.

Run with the images built: ``pytest benchmarks/test_suite_speed.py``. Each round
is a whole run of the checks in a subprocess; the gate is its median wall time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUDGET_S = 20.0
ROUNDS = 3


@pytest.mark.parametrize(
    ("scope", "marks"), [("checks", ["-m", "not ssh"]), ("checks-and-ssh", [])], ids=["checks", "checks-and-ssh"]
)
def test_checks_wall_time(benchmark: Any, scope: str, marks: list[str]) -> None:
    execs: list[dict[str, Any]] = []

    def one_run() -> None:
        with tempfile.TemporaryDirectory() as reports:
            proc = subprocess.run(
                [sys.executable, "-m", "pytest", str(ROOT / "checks"), "-p", "no:cacheprovider", "-q",
                 "--manifest", str(ROOT / "variants" / "reference.toml"), "--variant", "all",
                 "--report-dir", reports, *marks],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stdout[-2000:]
            execs.append(json.loads((Path(reports) / "summary.json").read_text())["notes"]["variants"])

    benchmark.group = "suite wall time"
    benchmark.extra_info["scope"] = scope
    start = time.monotonic()
    benchmark.pedantic(one_run, rounds=ROUNDS, iterations=1, warmup_rounds=0)
    benchmark.extra_info["execs_per_variant"] = {v: d["execs"] for v, d in execs[-1].items()}
    median = benchmark.stats.stats.median
    print(
        f"\n{scope}: median {median:.1f}s over {ROUNDS} runs ({time.monotonic() - start:.0f}s in all); execs {benchmark.extra_info['execs_per_variant']}"
    )
    if scope == "checks":
        assert median <= BUDGET_S, f"checks took a median {median:.1f}s, over the {BUDGET_S:.0f}s budget"
