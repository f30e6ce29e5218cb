"""What ``paddle-verify init`` keeps and writes, on this host (no engine): the commented TOML of
manifest/draft.py read back by the loader, and facts/keep.py over the gate's probe run here
with a fake ``paddle`` launcher on PATH (facts/discover.py's candidates as its contract)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from paddle_verify import inimage
from paddle_verify.cli import build_parser
from paddle_verify.facts import ImageFacts
from paddle_verify.facts.discover import RUNTIME_COMMANDS, TOOLCHAIN, Request, candidate_variant
from paddle_verify.facts.keep import draft_of
from paddle_verify.facts.probe import MARKER, probe_config
from paddle_verify.facts.schema import ImageInspect, Probe
from paddle_verify.manifest import ManifestError
from paddle_verify.manifest.draft import Draft, Section, render, string, validate

TODAY = "PaddlePaddle 3.3.1, compiled with\n    with_avx: ON\n    with_gpu: OFF\n    with_mkl: ON\n"


@given(st.text())
def test_any_string_reads_back_as_written(text: str) -> None:
    assert tomllib.loads(f"x = {string(text)}")["x"] == text


def test_a_draft_renders_as_commented_toml_the_loader_reads() -> None:
    runtime = Section("contract.runtime")
    runtime.add("version_pattern", r"^PaddlePaddle (?P<version>\S+?),? compiled with", "the default pattern")
    runtime.add("packages", [f"package_{n}" for n in range(12)], "a list too long for one line", {"x": "absent"})
    runtime.add("env", {"PADDLE_NO_STAT": "1"}, "")
    devel = Section("contract.devel")
    devel.add("toolchain", {"g++": ["g++", "--version"], "cmake": ["cmake", "--version"]}, "tools that answer")
    devel.add("source_dirs", ["/paddle"], "a dir with files")
    variant = Section("variants.mine")
    variant.add("flavour", "cpu")
    variant.add("role", "devel")
    draft = Draft(["written by a test", "", "second paragraph"], [Section("suite"), runtime, devel, variant])
    draft.sections[0].add("image", "repo/paddle:{tag}-{variant}", "where")
    text = render(draft)
    mine = validate(text, "draft.toml").variants["mine"]
    assert mine.devel is not None
    assert mine.devel.toolchain["g++"] == ("g++", "--version")
    assert mine.runtime.packages == tuple(f"package_{n}" for n in range(12))
    assert "# a list too long for one line. Not kept: x (absent)." in text
    assert text.startswith("# written by a test\n#\n# second paragraph\n"), text
    assert "[contract.devel]\n# a dir with files\nsource_dirs" in text  # the toolchain's table comes last
    assert all(len(line) <= 100 for line in text.splitlines() if line.startswith("#"))


def test_a_draft_the_loader_refuses_is_an_error_naming_the_field() -> None:
    variant = Section("variants.mine")
    variant.add("flavour", "tpu")
    variant.add("role", "runtime")
    suite = Section("suite")
    suite.add("image", "repo/paddle:x")
    with pytest.raises(ManifestError, match=r"variants\.mine\.flavour: must be one of cpu, gpu"):
        validate(render(Draft([], [suite, variant])), "draft.toml")


def unwrapped(text: str) -> str:
    """The TOML with its comments' wrapped lines joined (a sentence may span two)."""
    return text.replace("\n# ", " ")


def probe_here(tmp_path: Path, request: Request, launcher_body: str) -> ImageFacts:
    """The gate's probe, run on this host with init's candidates and a fake ``paddle`` first on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "paddle").write_text("#!/bin/sh\n" + launcher_body)
    (bindir / "paddle").chmod(0o755)
    variant = candidate_variant(request, sys.executable)
    config = probe_config(variant, 20, cuda_runtimes=("libcudart.so.12",), secrets=False)
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    argv = inimage.probe_argv(sys.executable, "probe.py", config)
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    raw = inimage.read_marked(proc.stdout, MARKER)
    assert raw is not None, proc.stdout + proc.stderr
    facts = ImageFacts(variant=variant)
    facts.probe_raw = cast(Probe, raw)
    facts.inspect_raw = cast(ImageInspect, {"Id": "sha256:" + "0" * 64})  # what keep reads of it
    return facts


def test_init_keeps_what_the_probe_found_and_names_what_it_did_not(tmp_path: Path) -> None:
    request = Request(image="team/paddle:mine", variant="mine", role="devel")
    facts = probe_here(tmp_path, request, f"printf '{TODAY}'\n")
    kept = draft_of(facts, request, "paddle-verify init --image team/paddle:mine --variant mine --role devel")
    text = render(kept.draft)
    mine = validate(text, "mine.toml").variants["mine"]
    assert (mine.flavour, mine.tag, mine.role) == ("cpu", "3.3.1", "devel"), mine
    assert mine.runtime.build_lines == ("with_avx", "with_gpu", "with_mkl")
    assert "matches `paddle version`'s line 'PaddlePaddle 3.3.1, compiled with'" in unwrapped(text)
    found = {c for c in RUNTIME_COMMANDS if facts.command(c)["path"] and facts.command(c)["executable"]}
    assert set(mine.runtime.commands) == found
    assert "paddle" not in mine.runtime.packages
    assert "Not kept: paddle (ModuleNotFoundError: No module named 'paddle');" in unwrapped(text)
    assert mine.devel is not None
    answering = {n for n, run in facts.devel["toolchain"].items() if run["rc"] == 0 and run["error"] is None}
    assert set(mine.devel.toolchain) == answering
    assert set(mine.devel.toolchain) <= set(TOOLCHAIN)
    # what no field relaxes: paddle does not import here, no source tree
    unmet = " | ".join(kept.unmet)
    assert "test_launcher_and_package_agree: `paddle version` says 3.3.1, the paddle package None" in unmet
    if not any(Path(d).is_dir() for d in mine.devel.source_dirs):
        assert "test_source_tree" in unmet


def test_a_launcher_without_a_version_line_is_unmet(tmp_path: Path) -> None:
    request = Request(image="team/paddle:mine", variant="mine", role="runtime", flavour="gpu")
    facts = probe_here(tmp_path, request, "echo 'paddle: command broken' >&2; exit 3\n")
    kept = draft_of(facts, request, "paddle-verify init")
    mine = validate(render(kept.draft), "mine.toml").variants["mine"]
    assert (mine.flavour, mine.tag) == ("gpu", "latest"), mine
    assert mine.devel is None
    assert mine.demo is None
    unmet = " | ".join(kept.unmet)
    assert "test_paddle_version_exits_0_offline" in unmet
    assert "test_paddle_version_prints_version_and_build" in unmet
    assert "test_with_gpu_matches_flavour: with_gpu: None in a gpu image" in unmet
    assert mine.runtime.cuda_libraries == ()  # nothing of CUDA loads on this host: no CUDA check
    assert mine.runtime.cuda_runtime is None


@pytest.mark.parametrize("name", ["all", "Upper", "a b", ""])
def test_init_refuses_a_bad_variant_name_with_exit_2(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["init", "--image", "x:y", "--variant", name])
    assert stop.value.code == 2
    assert "is not a variant name" in capsys.readouterr().err
