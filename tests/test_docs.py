"""Every shell block of README.md, CONTRIBUTING.md and docs/ runs as written (tests/docblocks.py).

Unit tier: every fenced block says its language, every marker is known and carries its
argument, and the blocks a substitution names hold what it replaces. Run tier: each ```sh
block, one test each (id ``DOC:LINE``), in a fresh copy of the checkout with the checkout's
virtualenv first on PATH, against the locally built reference images; a skipped block says
why. ``pytest tests/test_docs.py -rA`` lists every block run, skipped or pending.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT
from .docblocks import Block, blocks, documents, problems, script, summary_shape

ALL = [b for doc in documents(ROOT) for b in blocks(doc, ROOT)]
SHELL = [b for b in ALL if b.lang == "sh"]
BLOCK_TIMEOUT_S = 240


def test_the_documents_have_shell_blocks() -> None:
    assert any(b.doc == "README.md" for b in SHELL), "README.md: no ```sh block found: is the parser broken?"
    assert len(documents(ROOT)) >= 3, f"expected README.md, CONTRIBUTING.md and docs/: {documents(ROOT)}"


@pytest.mark.parametrize("block", ALL, ids=[b.id for b in ALL])
def test_block_language_and_markers(block: Block) -> None:
    found = problems(block)
    if block.lang == "sh" and not block.marker("skip"):
        try:
            script(block)
        except ValueError as e:
            found.append(str(e))
    assert not found, "; ".join(found)


def test_markers_are_parsed_as_documented(tmp_path: Path) -> None:
    doc = tmp_path / "x.md"
    doc.write_text(
        "<!-- doc-test: image pub/img:1=loc/img:2 -->\n<!-- doc-test: sub --tag 1=--tag 2 -->\n```sh\n"
        "pytest checks/ --image cpu=pub/img:1 --tag 1 --pull\n```\n\n```text\n== 3 passed, 1 skipped in 9.31s ==\n```\n"
        "<!-- doc-test: skip needs a GPU -->\n```sh\nnvidia-smi\n```\n"
    )
    first, _, last = blocks(doc, tmp_path)
    run = script(first)
    assert run.text == "set -euo pipefail\npytest checks/ --image cpu=loc/img:2 --tag 2\n", run.text
    assert len(run.changes) == 3, run.changes
    shape = summary_shape(first.sample or "")
    assert shape is not None, first.sample
    assert shape.search("=== 18 passed, 2 skipped in 40.12s ===")
    assert shape.search("=== 18 passed, 2 skipped in 80.12s (0:01:20) ==="), "pytest's (h:mm:ss) past a minute"
    assert not shape.search("=== 18 passed in 40.12s ==="), "a sample's outcome words must all be printed"
    assert last.marker("skip") == "needs a GPU"
    assert problems(Block("x.md", 1, "bash", "ls\n")), "a ```bash block escapes the runner: must be refused"


@pytest.fixture(scope="module")
def workspace_source() -> list[str]:
    """The checkout's files as a fresh clone would have them (tracked, and new ones not ignored)."""
    proc = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=False,
    )
    if proc.returncode != 0:
        pytest.skip(f"not a git checkout ({proc.stderr.decode()[:200]}): the doc blocks run in a copy of one")
    return [p for p in proc.stdout.decode().split("\0") if p and (ROOT / p).is_file()]


def fresh_copy(files: list[str], dest: Path) -> Path:
    for rel in files:
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, dest / rel)
    return dest


@pytest.mark.parametrize("block", SHELL, ids=[b.id for b in SHELL])
def test_shell_block_runs(
    block: Block,
    workspace_source: list[str],
    reference_images: dict[str, str],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> None:
    reason = block.marker("skip")
    if reason:
        pytest.skip(f"{block.id}: not run: {reason}")
    pending = block.marker("pending")
    if pending:
        request.applymarker(
            pytest.mark.xfail(strict=True, reason=f"{block.id}: pending {pending} (remove the marker once merged)")
        )
    run = script(block)
    cwd = fresh_copy(workspace_source, tmp_path / "checkout")
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ.get('PATH', '')}", "VIRTUAL_ENV": str(Path(venv_bin).parent)}
    start = time.monotonic()
    proc = subprocess.run(
        ["bash", "-c", run.text],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BLOCK_TIMEOUT_S,
        check=False,
    )
    took = time.monotonic() - start
    output = proc.stdout + proc.stderr
    print(f"{block.id}: ran in {took:.1f}s, exit {proc.returncode}; {'; '.join(run.changes) or 'as written'}")
    assert proc.returncode == 0, (
        f"{block.id}: the block exited {proc.returncode} ({'; '.join(run.changes) or 'as written'}):\n"
        f"{run.text}\n--- output (last 4000 characters) ---\n{output[-4000:]}"
    )
    shape = summary_shape(block.sample or "")
    if shape is not None:
        assert shape.search(output), (
            f"{block.id}: its sample output's summary line does not have the shape of what it printed "
            f"(sample: {shape.pattern!r}):\n{output[-2000:]}"
        )
