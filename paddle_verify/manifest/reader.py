"""Typed access to one table of a manifest's TOML, every problem a :class:`~.model.ManifestError`
naming the file and the field (used by :mod:`.loader`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import ManifestError


class Reader:
    """Typed access to one TOML table, with errors that name the field."""

    def __init__(self, path: Path, prefix: str, table: Any, allowed: set[str]) -> None:
        self.path = path
        self.prefix = prefix
        if not isinstance(table, dict):
            raise ManifestError(path, prefix, f"must be a table, not {type(table).__name__}")
        self.table: dict[str, Any] = table
        for key in table:
            if key not in allowed:
                raise ManifestError(path, self._name(key), f"unknown field (known: {', '.join(sorted(allowed))})")

    def _name(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def _fail(self, key: str, problem: str) -> ManifestError:
        return ManifestError(self.path, self._name(key), problem)

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if value is None:
            raise self._fail(key, "is required")
        if not isinstance(value, str) or not value.strip():
            raise self._fail(key, f"must be a non-empty string, not {value!r}")
        return value

    def opt_str(self, key: str) -> str | None:
        return None if key not in self.table else self.text(key)

    def flag(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            raise self._fail(key, f"must be true or false, not {value!r}")
        return value

    def opt_flag(self, key: str) -> bool | None:
        return None if key not in self.table else self.flag(key, False)

    def strs(self, key: str) -> tuple[str, ...]:
        value = self.table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._fail(key, f"must be a list of non-empty strings, not {value!r}")
        return tuple(value)

    def str_map(self, key: str) -> dict[str, str]:
        value = self.table.get(key, {})
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise self._fail(key, f"must be a table of strings, not {value!r}")
        return dict(value)

    def argv_map(self, key: str) -> dict[str, tuple[str, ...]]:
        value = self.table.get(key, {})
        if not isinstance(value, dict):
            raise self._fail(key, f"must be a table of name = [argv...], not {value!r}")
        out: dict[str, tuple[str, ...]] = {}
        for name, argv in value.items():
            if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
                raise self._fail(f"{key}.{name}", f"must be a non-empty list of strings, not {argv!r}")
            out[name] = tuple(argv)
        return out
