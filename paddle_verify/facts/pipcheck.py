"""What ``pip check`` says, read: each broken requirement as the package that declares it, the
requirement, and what is wrong (not installed, or the version installed), for any pip's wording.

pip 9-20.2 says ``x 1.0 has requirement y>=2, but you have y 1.0.``; pip 20.3 and later
``x 1.0 requires y>=2, but you have y 1.0 which is incompatible.``; all of them
``x 1.0 requires y, which is not installed.``; pip 23.1 and later also
``x 1.0 is not supported on this platform``. A line in none of these shapes is kept whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

BROKEN = re.compile(
    r"^(?P<package>\S+) (?P<version>\S+) (?:requires|has requirement) (?P<requirement>.+?), "
    r"(?:(?P<missing>which is not installed)|but you have (?P<have>.+?)(?: which is incompatible)?)\.?$"
)
PLATFORM = re.compile(r"^(?P<package>\S+) (?P<version>\S+) is not supported on this platform")
FINE = ("No broken requirements found.",)


@dataclass(frozen=True)
class Broken:
    package: str  # the distribution that declares the requirement
    version: str
    requirement: str  # as pip shows it: "opt-einsum==3.3.0"
    problem: str  # "not installed", "installed: opt-einsum 3.2.0", "not supported on this platform"

    @property
    def key(self) -> str:
        """The package's name as the allow-list spells it: lower case, ``-`` for ``_`` and ``.``."""
        return re.sub(r"[-_.]+", "-", self.package).lower()

    def __str__(self) -> str:
        if self.requirement:
            return f"{self.package} {self.version} requires {self.requirement}: {self.problem}"
        return f"{self.package} {self.version}: {self.problem}"


def parse(stdout: str) -> list[Broken]:
    """The broken requirements ``pip check`` printed (its other lines, warnings aside, kept whole)."""
    out: list[Broken] = []
    for line in (ln.strip() for ln in stdout.splitlines()):
        if not line or line in FINE:
            continue
        m = BROKEN.match(line)
        if m:
            problem = "not installed" if m.group("missing") else f"installed: {m.group('have')}"
            out.append(Broken(m.group("package"), m.group("version"), m.group("requirement"), problem))
            continue
        m = PLATFORM.match(line)
        if m:
            out.append(Broken(m.group("package"), m.group("version"), "", "not supported on this platform"))
            continue
        out.append(Broken(line, "", "", "(as pip printed it)"))
    return out
