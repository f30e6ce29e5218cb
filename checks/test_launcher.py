"""The `paddle` launcher (and the contract's other commands) are on PATH, executable, and answer."""

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant


def test_command_on_path_and_executable(variant: Variant, command: str, facts: ImageFacts) -> None:
    found = facts.command(command)
    assert found["path"], f"{variant.name}: `{command}` is not on PATH"
    assert found["executable"], f"{variant.name}: {found['path']} is not executable (mode {found['mode']})"


@pytest.mark.contract("carries.paddle")
def test_launcher_subcommand_answers(variant: Variant, subcommand: str, facts: ImageFacts) -> None:
    run = facts.launcher_run(subcommand)
    shown = " ".join(run["argv"][-2:])
    assert run["error"] is None, f"{variant.name}: `paddle {subcommand}` did not run: {run['error']}"
    assert run["rc"] == 0, (
        f"{variant.name}: `{shown}` exited with {run['rc']}: {(run['stderr'] or run['stdout']).strip()[-300:]!r}"
    )
