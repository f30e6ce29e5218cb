"""What changed since the baseline: a ``facts.json`` of an earlier run (``--baseline``) against
this run's facts of the same variant.

Owns: reading a baseline (:func:`load`, every problem named), the diff of two snapshots
(:func:`diff`: Python and Debian packages added, removed and changed, a change of major
version marked; ``paddle version``'s build lines; the image's size; the timings) and its
one-line and JSON forms for the reports. The checks (``checks/test_baseline.py``) judge it.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from .snapshot import VERSION


class BaselineError(ValueError):
    """A baseline that cannot be used; the message names the file and the problem."""


def load(path: Path) -> dict[str, dict[str, Any]]:
    """The variants of the ``facts.json`` at ``path``, by variant."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"{path}: not a facts.json: {exc}") from None
    if not isinstance(data, dict) or data.get("version") != VERSION or not isinstance(data.get("variants"), dict):
        raise BaselineError(f"{path}: not a facts.json of version {VERSION} (a run's reports/facts.json)")
    variants: dict[str, dict[str, Any]] = data["variants"]
    return variants


def major(version: str) -> tuple[int, ...]:
    """The part of a version whose change breaks users: the epoch and the first number
    (``1:9.2.2-1`` -> ``(1, 9)``, ``2.4.6`` -> ``(0, 2)``); ``()`` when there is no number."""
    epoch, _, rest = version.rpartition(":") if re.match(r"^\d+:", version) else ("0", "", version)
    m = re.match(r"\D*(\d+)", rest)
    return (int(epoch), int(m.group(1))) if m else ()


@dataclass
class Packages:
    """One package manager's changes: name -> version, or (old, new)."""

    added: dict[str, str] = field(default_factory=dict)
    removed: dict[str, str] = field(default_factory=dict)
    changed: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def major_changes(self) -> dict[str, tuple[str, str]]:
        return {n: (a, b) for n, (a, b) in self.changed.items() if major(a) != major(b)}

    def summary(self) -> str:
        return f"+{len(self.added)} -{len(self.removed)} ~{len(self.changed)}"


def packages(old: dict[str, str] | None, new: dict[str, str] | None) -> Packages | None:
    if old is None or new is None:
        return None
    return Packages(
        added={n: v for n, v in new.items() if n not in old},
        removed={n: v for n, v in old.items() if n not in new},
        changed={n: (v, new[n]) for n, v in old.items() if n in new and new[n] != v},
    )


@dataclass
class Diff:
    """One variant since the baseline (a part is None where either side lacks it)."""

    variant: str
    python: Packages | None
    debian: Packages | None
    build: dict[str, tuple[str | None, str | None]]  # line -> (before, now), the changed ones
    size: tuple[int | None, int | None]
    timings: dict[str, tuple[float | None, float | None]]

    @property
    def growth(self) -> float | None:
        """The image's growth in percent (negative: it shrank)."""
        before, now = self.size
        return None if not before or now is None else 100.0 * (now - before) / before

    def line(self) -> str:
        """The diff in one line, for the terminal."""
        parts = []
        for kind in ("python", "debian"):
            pk: Packages | None = getattr(self, kind)
            if pk is not None:
                shown = [f"-{n}" for n in pk.removed] + [f"{n} {a} -> {b}" for n, (a, b) in pk.changed.items()]
                parts.append(f"{kind} {pk.summary()}" + (f" ({', '.join(shown[:4])})" if shown else ""))
        if self.build:
            parts.append("build: " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in self.build.items()))
        if self.growth is not None:
            parts.append(f"size {_mb(self.size[0])} -> {_mb(self.size[1])} ({self.growth:+.1f}%)")
        for name, (a, b) in self.timings.items():
            if a is not None and b is not None:
                parts.append(f"{name} {a:.2f}s -> {b:.2f}s")
        return "; ".join(parts) or "no change"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["growth_percent"] = None if self.growth is None else round(self.growth, 2)
        return data


def _mb(size: int | None) -> str:
    return "?" if size is None else f"{size / 1e6:.0f} MB"


def diff(variant: str, before: dict[str, Any], now: dict[str, Any]) -> Diff:
    """``now`` (this run's snapshot of ``variant``) against ``before`` (the baseline's)."""
    old_build, new_build = before.get("build") or {}, now.get("build") or {}
    timings = ("import_paddle_seconds", "container_start_seconds")
    return Diff(
        variant=variant,
        python=packages(before.get("python_packages"), now.get("python_packages")),
        debian=packages(before.get("debian_packages"), now.get("debian_packages")),
        build={
            k: (old_build.get(k), new_build.get(k))
            for k in sorted(set(old_build) | set(new_build))
            if old_build.get(k) != new_build.get(k)
        },
        size=(before.get("size"), now.get("size")),
        timings={t: ((before.get("timings") or {}).get(t), (now.get("timings") or {}).get(t)) for t in timings},
    )
