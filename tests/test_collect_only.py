"""``pytest --collect-only`` lists the checks of every variant and reaches no engine."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def collect(tmp_path: Path, docker_host: str, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "pytest", str(ROOT / "checks"), "--collect-only", "-q", "-p", "no:cacheprovider"]
    return subprocess.run(
        [*argv, "--report-dir", str(tmp_path / "reports"), *args],
        cwd=tmp_path,
        env={**os.environ, "DOCKER_HOST": docker_host},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_collect_only_without_an_engine_lists_every_variant(tmp_path: Path) -> None:
    done = collect(tmp_path, "unix:///nonexistent")
    assert done.returncode == 0, f"--collect-only without an engine exited {done.returncode}:\n{done.stdout[-2000:]}"
    for variant in ("cpu", "gpu", "cpu-devel", "gpu-devel", "cpu-demo", "gpu-demo"):
        assert f"test_paddle_version_exits_0_offline[{variant}]" in done.stdout, f"{variant} not listed:\n{done.stdout}"


@pytest.mark.parametrize("args", [(), ("--reuse-verdicts", "verdicts")], ids=["plain", "reuse-verdicts"])
def test_collect_only_opens_no_connection_to_the_engine(tmp_path: Path, args: tuple[str, ...]) -> None:
    """A socket that listens where DOCKER_HOST points and counts who connects: nobody may."""
    path = tmp_path / "docker.sock"
    with socket.socket(socket.AF_UNIX) as spy:
        spy.bind(str(path))
        spy.listen(16)
        spy.setblocking(False)
        done = collect(tmp_path, f"unix://{path}", *args)
        connections = 0
        while True:
            try:
                conn, _ = spy.accept()
            except BlockingIOError:
                break
            conn.close()
            connections += 1
    assert done.returncode == 0, f"--collect-only exited {done.returncode}:\n{done.stdout[-2000:]}"
    assert connections == 0, f"--collect-only connected {connections} time(s) to the engine at {path}"
