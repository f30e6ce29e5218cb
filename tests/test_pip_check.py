"""`pip check` read for any pip's wording, and the manifest's allow-lists (no engine: the unit tier).

The images' side is in the broken-image self-tests: ``requirement-missing`` (tests/defects.py),
and the reference and benign images passing.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from paddle_verify.facts.pipcheck import Broken, parse
from paddle_verify.manifest import ManifestError, load

from .conftest import ImageFactory, InnerRun
from .defects import DEFECTS, Defect
from .test_broken_images import NOT_SSH, assert_exactly, manifest_for


@pytest.mark.parametrize(
    ("line", "broken"),
    [
        # every pip: a requirement not installed
        (
            "paddlepaddle 3.3.1 requires networkx, which is not installed.",
            Broken("paddlepaddle", "3.3.1", "networkx", "not installed"),
        ),
        # pip 20.3 and later (20.3.4 is the last for Python 2.7)
        (
            "paddlepaddle 2.6.2 requires opt-einsum==3.3.0, but you have opt-einsum 3.4.0 which is incompatible.",
            Broken("paddlepaddle", "2.6.2", "opt-einsum==3.3.0", "installed: opt-einsum 3.4.0"),
        ),
        # pip 9 - 20.2
        (
            "paddlepaddle 1.8.5 has requirement numpy<=1.16.4, but you have numpy 1.16.6.",
            Broken("paddlepaddle", "1.8.5", "numpy<=1.16.4", "installed: numpy 1.16.6"),
        ),
        # pip 23.1 and later
        ("foo 1.0 is not supported on this platform", Broken("foo", "1.0", "", "not supported on this platform")),
        ("something pip says one day", Broken("something pip says one day", "", "", "(as pip printed it)")),
    ],
)
def test_pip_check_lines_of_every_era(line: str, broken: Broken) -> None:
    assert parse(f"{line}\n") == [broken]


def test_no_broken_requirements_is_nothing() -> None:
    assert parse("No broken requirements found.\n") == []


def test_broken_is_shown_with_package_and_requirement() -> None:
    b = Broken("paddlepaddle", "3.3.1", "networkx", "not installed")
    assert str(b) == "paddlepaddle 3.3.1 requires networkx: not installed"
    assert Broken("Opt_Einsum", "1", "x", "y").key == "opt-einsum"


MANIFEST = """
[suite]
image = "x/paddle:{tag}-{variant}"
[variants.cpu]
flavour = "cpu"
role = "runtime"
"""


def test_manifest_allow_lists(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_text(
        MANIFEST + '[secrets]\nallow = [{ name = "HF_TOKEN", reason = "public" }, { path = "/etc/k", reason = "r" }]\n'
        '[pip_check]\nallow = [{ package = "Opt_Einsum", reason = "vendored" }]\n'
    )
    accepted = load(path).variants["cpu"].accepted
    assert dict(accepted.secrets) == {"HF_TOKEN": "public", "/etc/k": "r"}
    assert dict(accepted.pip_check) == {"opt-einsum": "vendored"}


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ('[secrets]\nallow = [{ name = "X" }]\n', "secrets.allow[0]: needs a reason"),
        ('[secrets]\nallow = [{ name = "X", path = "/y", reason = "r" }]\n', "needs exactly one of name, path"),
        ('[pip_check]\nallow = ["foo"]\n', "pip_check.allow[0]: must be { package = ..., reason = ... }"),
        ("[pip_check]\nignore = []\n", "pip_check: must be a table with one field, allow"),
    ],
)
def test_manifest_allow_lists_need_a_reason_and_one_key(tmp_path: Path, toml: str, problem: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(MANIFEST + toml)
    with pytest.raises(ManifestError, match=problem.replace("[", r"\[").replace("]", r"\]").replace("{", r"\{")):
        load(path)


# --- images -------------------------------------------------------------------------

NO_PIP = "RUN rm -r /usr/lib/python3/dist-packages/pip"  # `pip` stays on PATH; its module is gone


def test_requirement_missing_fails_and_no_pip_is_not_run(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    """The requirement-missing defect alone (the broken-image matrix runs it with the others), and an
    image whose Python has no pip: `pip check` not run, saying so, and nothing failed for it."""
    defect = next(d for d in DEFECTS if d.name == "requirement-missing")
    no_pip = Defect("no-pip", "cpu", "runtime", NO_PIP)
    images = {
        d.name: (d, build_image(d.name, f"FROM {reference_images[d.base]}\n{d.dockerfile}\n")) for d in (defect, no_pip)
    }
    manifest = manifest_for(tmp_path / "pip.toml", images)
    run = run_checks("--manifest", str(manifest), "--variant", "all", *NOT_SSH, "-k", "pip_check or packages")
    assert run.ret == 1, run.stdout[-2000:]
    assert_exactly(run, defect.name, defect)
    check = "test_pip_check_finds_no_broken_requirements[no-pip]"
    assert run.outcomes()[check] == "skipped", run.outcomes()
    assert "no-pip: not run: no pip in the image" in run.messages()[check]
