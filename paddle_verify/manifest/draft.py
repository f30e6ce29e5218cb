"""A manifest written by a program (``paddle-verify init``): each value with the comment that says
where it came from, rendered as TOML and read back with the loader before anyone sees it.

Owns: :class:`Entry`, :class:`Section`, :class:`Draft`, :func:`render` (the commented TOML) and
:func:`validate` (the text read back with :func:`~.loader.parse`: a draft that is no valid
manifest is an error here, never a file a team finds broken later).
"""

from __future__ import annotations

import json
import re
import textwrap
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .loader import parse
from .model import Manifest, ManifestError

Value = str | bool | list[str] | dict[str, str] | dict[str, list[str]]
WIDTH = 100
_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class Entry:
    """``key = value``, with ``why`` (where the value came from) as the comment above it."""

    key: str
    value: Value
    why: str = ""


@dataclass
class Section:
    """``[name]``: its entries, with ``notes`` (what was looked for and not kept) first."""

    name: str
    entries: list[Entry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, key: str, value: Value, why: str = "", dropped: dict[str, str] | None = None) -> None:
        """``key = value`` with ``why`` and the candidates not kept (``dropped``: name -> why not)."""
        if dropped:
            lead = why.strip().rstrip(".") + ". " if why.strip() else ""
            why = lead + "Not kept: " + "; ".join(f"{k} ({v})" for k, v in dropped.items()) + "."
        self.entries.append(Entry(key, value, why))


@dataclass
class Draft:
    """A whole manifest: the header's comment lines and the sections, in order."""

    header: list[str]
    sections: list[Section]


def comment(text: str, indent: str = "") -> list[str]:
    """``text`` as ``# `` lines of at most :data:`WIDTH` characters (blank: none)."""
    lines: list[str] = []
    for paragraph in text.splitlines():
        wrapped = textwrap.wrap(paragraph, WIDTH - 2 - len(indent), break_on_hyphens=False) or [""]
        lines.extend(f"{indent}# {line}".rstrip() for line in wrapped)
    return lines


def key(name: str) -> str:
    return name if _BARE_KEY.match(name) else string(name)


def string(text: str) -> str:
    """A TOML string: literal ('...') when it holds backslashes and can (a regular expression
    reads as written), else basic, escaped as JSON escapes it (a subset of TOML's escapes)."""
    if "\\" in text and "'" not in text and not any(ord(c) < 32 or ord(c) == 127 for c in text):
        return f"'{text}'"
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def value(v: Value, indent: str = "") -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return string(v)
    if isinstance(v, list):
        items = [string(x) for x in v]
        flat = "[" + ", ".join(items) + "]"
        if len(indent) + len(flat) <= WIDTH - 20 or not items:
            return flat
        return "[\n" + "".join(f"{indent}  {x},\n" for x in items) + f"{indent}]"
    pairs = []
    for k, x in v.items():
        if not isinstance(x, str):
            raise TypeError(f"an inline table holds strings, not {x!r}")
        pairs.append(f"{key(k)} = {string(x)}")
    return "{ " + ", ".join(pairs) + " }" if pairs else "{}"


def _is_table_of_lists(v: Value) -> bool:
    return isinstance(v, dict) and bool(v) and all(isinstance(x, list) for x in v.values())


def render(draft: Draft) -> str:
    """The commented TOML of ``draft`` (a table of lists, e.g. the toolchain, as its own ``[a.b]``)."""
    out: list[str] = []
    for line in draft.header:
        out.extend(comment(line) if line else ["#"])
    for section in draft.sections:
        out.append("")
        out.append(f"[{section.name}]")
        for note in section.notes:
            out.extend(comment(note))
        subtables = [e for e in section.entries if _is_table_of_lists(e.value)]
        for entry in section.entries:
            if entry in subtables:
                continue
            out.extend(comment(entry.why))
            out.append(f"{key(entry.key)} = {value(entry.value)}")
        for entry in subtables:
            out.append("")
            out.extend(comment(entry.why))
            out.append(f"[{section.name}.{key(entry.key)}]")
            assert isinstance(entry.value, dict)
            for name, argv in entry.value.items():
                out.append(f"{key(name)} = {value(argv)}")
    return "\n".join(out).strip("\n") + "\n"


def validate(text: str, path: Path | str) -> Manifest:
    """``text`` read as the gate reads a manifest; a :class:`ManifestError` names what is wrong."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(path, "", f"is not valid TOML: {exc}") from None
    return parse(raw, path)
