"""Options and bad input: usage errors (exit 4) that name the problem, and no container created.

The option and manifest errors and the selections run pytest over ``checks/`` in this process
(pytester, the unit tier: they end before any engine is reached); one usage error, the missing
image and the unreachable daemon run it as a user does, in a process of its own."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import docker
import pytest

from .conftest import REFERENCE, ROOT, InnerRun

pytest_plugins = ["pytester"]
USAGE = 4


@dataclass
class InProcess:
    """A run of pytest over ``checks/`` in this process (``pytester.runpytest_inprocess``)."""

    ret: int
    stdout: str
    stderr: str


@pytest.fixture
def checks_inprocess(pytester: pytest.Pytester) -> Callable[..., InProcess]:
    """``checks_inprocess(*args)``: pytest over ``checks/`` with ``args``, in this process; the
    manifest is the reference one unless ``args`` name another."""

    def run(*args: str) -> InProcess:
        manifest = () if "--manifest" in args else ("--manifest", str(REFERENCE))
        # The plugin is imported already (by this process's own run): too late to rewrite its asserts, said once.
        quiet = ("-W", "ignore::pytest.PytestAssertRewriteWarning")
        res = pytester.runpytest_inprocess("-p", "no:cacheprovider", *quiet, *manifest, *args, str(ROOT / "checks"))
        return InProcess(int(res.ret), res.stdout.str(), res.stderr.str())

    return run


def collected(run: InnerRun | InProcess) -> list[str]:
    """Test ids from ``--collect-only`` output, quiet or not."""
    return [line.strip() for line in run.stdout.splitlines() if "::" in line or "<Function" in line]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--variant", "nope"], "unknown variant 'nope' (valid: cpu, cpu-devel, cpu-demo, all)"),
        (["--variant", "cpu,,cpu-demo"], "empty variant name"),
        (["--image", "cpu"], "'cpu' is not VARIANT=IMAGE"),
        (["--image", "=img"], "is not VARIANT=IMAGE"),
        (["--image", "gpu9=img"], "unknown variant 'gpu9'"),
        (["--tag", ""], "'' is not an image tag"),
        (["--tag", "bad tag"], "is not an image tag"),
        (["--exec-timeout", "-1"], "seconds must be > 0"),
        (["--manifest", "no/such.toml"], "no/such.toml: no such file"),
        (["--reuse-verdicts", str(REFERENCE)], "reference.toml' is not a directory"),
    ],
)
def test_bad_option_is_a_usage_error(args: list[str], words: str, checks_inprocess: Callable[..., InProcess]) -> None:
    run = checks_inprocess(*args)
    assert run.ret == USAGE, run.stdout[-2000:] + run.stderr[-2000:]
    assert words in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout


def test_a_usage_error_as_a_user_meets_it(
    docker_client: docker.DockerClient, run_checks: Callable[..., InnerRun]
) -> None:
    """The same, from the command line, in a process of its own: exit 4, the reason, no traceback, nothing created."""
    before = {c.id for c in docker_client.containers.list(all=True)}
    run = run_checks("--manifest", str(REFERENCE), "--variant", "nope")
    assert run.ret == USAGE, run.stdout[-2000:] + run.stderr[-2000:]
    assert "unknown variant 'nope' (valid: cpu, cpu-devel, cpu-demo, all)" in run.stderr + run.stdout
    assert "Traceback" not in run.stderr + run.stdout
    assert {c.id for c in docker_client.containers.list(all=True)} == before


HEAD = '[suite]\nimage = "x:{tag}"\n'
CPU = '[variants.cpu]\nflavour = "cpu"\nrole = "runtime"\n'


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("[suite\nimage = 1", "is not valid TOML"),
        (HEAD + CPU + "size = 3\n", "variants.cpu.size: unknown field"),
        (HEAD + CPU.replace('"cpu"\nrole', '"tpu"\nrole'), "variants.cpu.flavour: must be one of cpu, gpu"),
        (HEAD + '[contract.runtime]\npackages = "paddle"\n' + CPU, "contract.runtime.packages: must be a list"),
        (HEAD.replace("{tag}", "{nope}") + CPU, "suite.image: only {tag} and {variant}"),
        (HEAD, "variants: must be a table with at least one"),
    ],
)
def test_broken_manifest_names_file_and_field(
    toml: str, words: str, checks_inprocess: Callable[..., InProcess], tmp_path: Path
) -> None:
    manifest = tmp_path / "broken.toml"
    manifest.write_text(toml)
    run = checks_inprocess("--manifest", str(manifest))
    assert run.ret == USAGE, run.stdout[-2000:]
    assert f"{manifest}: " in run.stderr
    assert words in run.stderr


def test_variant_lists_and_all(checks_inprocess: Callable[..., InProcess]) -> None:
    some = collected(checks_inprocess("--variant", "cpu,cpu-demo", "--collect-only", "-q"))
    assert some
    assert all("[cpu" in line for line in some)
    assert not any("cpu-devel" in line for line in some)
    every = collected(checks_inprocess("--variant", "all", "--collect-only", "-q"))
    assert any("[cpu-devel" in line for line in every)
    assert len(every) > len(some)


def test_image_option_selects_its_variant(checks_inprocess: Callable[..., InProcess]) -> None:
    run = checks_inprocess("--image", "cpu-devel=somewhere/else:1", "--collect-only")
    lines = collected(run)
    assert lines
    assert all("[cpu-devel" in line for line in lines)
    assert "cpu-devel=somewhere/else:1" in run.stdout


def test_tag_option_changes_the_image(checks_inprocess: Callable[..., InProcess]) -> None:
    run = checks_inprocess("--tag", "9.9.9", "--collect-only")
    assert "cpu=paddle-verify/paddlepaddle:9.9.9-cpu" in run.stdout


def test_missing_image_is_one_failure_and_its_checks_are_not_run(
    docker_client: docker.DockerClient, run_checks: Callable[..., InnerRun]
) -> None:
    """One cause, one failure: the missing image fails one check of its variant, without a traceback
    through the suite's code; every other check that needs the image says it was not run, and why."""
    ref = "paddle-verify-test/absent:never-built"
    run = run_checks("--manifest", str(REFERENCE), "--image", f"cpu={ref}")
    assert run.ret == 1
    assert run.summary is not None
    rows = [r for r in run.summary["results"] if r["check"] != "test_host_kernel_at_least_3_10"]
    why = f"cpu: image {ref} is not present (the suite pulls only with --pull)"
    failed = [r for r in rows if r["outcome"] == "failed"]
    assert len(failed) == 1, failed
    assert failed[0]["message"] == why
    first = failed[0]["nodeid"].split("::")[-1]
    others = [r for r in rows if r is not failed[0]]
    assert len(others) > 20, others
    assert all(r["outcome"] == "skipped" for r in others), [r for r in others if r["outcome"] != "skipped"]
    assert all(r["message"] == f"not run: {why} (reported once, by {first})" for r in others), others[:3]
    assert "Traceback" not in run.stdout, run.stdout[-3000:]
    assert "paddle_verify/" not in run.stdout, run.stdout[-3000:]
    assert run.leftovers(docker_client) == []


def test_unreachable_daemon_is_one_clear_error(
    run_checks: Callable[..., InnerRun], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sock = tmp_path / "no-docker.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    start = time.monotonic()
    run = run_checks("--manifest", str(REFERENCE), "--variant", "all")
    took = time.monotonic() - start
    out = run.stdout + run.stderr
    assert run.ret == 7, out[-2000:]
    assert took < 15
    assert out.count(f"Docker daemon unreachable at unix://{sock}") == 1, out[-2000:]
    assert "Traceback" not in out
