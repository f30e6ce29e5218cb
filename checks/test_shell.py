"""`docker run -it IMAGE` gives an interactive shell, and `paddle version` works in it."""

import re

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant


def _no_shell(variant: Variant, facts: ImageFacts) -> str:
    tty = facts.tty
    how = f"exited with code {tty.exit_code}" if tty.exited else f"did not answer within {tty.seconds:.0f}s"
    return (
        f"{variant.name}: `docker run -it {variant.image}` gave no shell: its default command "
        f"{tty.default_command or '(none)'} {how}; screen: {tty.transcript.strip()[-300:]!r}"
    )


def test_run_it_gives_a_shell(variant: Variant, facts: ImageFacts) -> None:
    assert facts.tty.answered, _no_shell(variant, facts)


@pytest.mark.contract("carries.paddle")
def test_paddle_version_in_the_shell(variant: Variant, facts: ImageFacts) -> None:
    tty = facts.tty
    assert tty.answered, _no_shell(variant, facts)
    screen = tty.transcript.strip()[-500:]
    assert tty.rc == 0, f"{variant.name}: `paddle version` typed in the shell exited with {tty.rc}: {screen!r}"
    assert re.search(variant.runtime.version_pattern, tty.transcript, re.M), (
        f"{variant.name}: `paddle version` typed in the shell printed no version line: {screen!r}"
    )
