"""The shell blocks of the documentation, as the doc self-test (tests/test_docs.py) runs them.

Owns: finding the documents (README.md, CONTRIBUTING.md, docs/**/*.md), cutting them into
fenced blocks, reading the ``<!-- doc-test: ... -->`` markers on the lines right above a
block, and turning a block into the bash script that is run. The rules are CONTRIBUTING.md's
"Documentation is tested":

- a ```sh block is run as ONE bash script with ``set -euo pipefail``, in a fresh copy of the
  checkout, with the checkout's virtualenv first on PATH;
- ```text blocks are output, never run; a ```text block right after a ```sh block is that
  block's sample output, and its pytest summary line (``== 18 passed in 9.31s ==``) must have
  the shape of the one the run prints (the same outcome words, any numbers);
- markers, one per line, on the lines right above the fence:
  ``skip REASON`` (not run, the reason printed), ``image PUBLISHED=LOCAL`` (run with the
  published image replaced by a locally built reference image, ``--pull`` dropped: no
  registry serves the local one), ``sub OLD=NEW`` (a literal replacement, after the image
  ones), ``pending WHAT`` (run, and expected to fail until WHAT, another branch's feature, is
  merged: when it passes, the test fails, telling to remove the marker).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"^<!-- doc-test: (?P<kind>\w+)(?: (?P<arg>.*?))? -->$")
KINDS = ("skip", "image", "sub", "pending")
FENCE = re.compile(r"^```(?P<lang>[\w-]*)\s*$")
# Every fenced block says what it is: the runner must not miss a shell block written as ```bash.
LANGUAGES = ("sh", "text", "toml", "python", "yaml")
SUMMARY = re.compile(r"^=+ (?P<body>.*\d+ (?:passed|failed|skipped|error|errors|deselected|xfailed|xpassed)\b.*) =+$")


@dataclass(frozen=True)
class Block:
    """One fenced block of a document."""

    doc: str  # relative to the checkout
    line: int  # of the opening fence, 1-based
    lang: str
    text: str
    markers: tuple[tuple[str, str], ...] = ()
    sample: str | None = None  # the ```text block right after it, if any

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.line}"

    def marker(self, kind: str) -> str | None:
        return next((arg for k, arg in self.markers if k == kind), None)


@dataclass
class Script:
    """What is run for a block, and what was changed to run it here."""

    text: str
    changes: list[str] = field(default_factory=list)


def documents(root: Path = ROOT) -> list[Path]:
    docs = [root / "README.md", root / "CONTRIBUTING.md", *sorted((root / "docs").rglob("*.md"))]
    return [d for d in docs if d.is_file()]


def blocks(path: Path, root: Path = ROOT) -> list[Block]:
    """The fenced blocks of one document, with their markers and sample output."""
    lines = path.read_text().splitlines()
    rel = str(path.relative_to(root))
    found: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        start, lang = i, opening["lang"]
        end = next((j for j in range(start + 1, len(lines)) if lines[j].strip() == "```"), None)
        if end is None:
            raise ValueError(f"{rel}:{start + 1}: a fenced block that is never closed")
        markers: list[tuple[str, str]] = []
        j = start - 1
        while j >= 0 and (m := MARKER.match(lines[j].strip())):
            markers.insert(0, (m["kind"], m["arg"] or ""))
            j -= 1
        found.append(Block(rel, start + 1, lang, "\n".join(lines[start + 1 : end]) + "\n", tuple(markers)))
        i = end + 1
    return [_with_sample(b, found[k + 1] if k + 1 < len(found) else None, lines) for k, b in enumerate(found)]


def _with_sample(block: Block, after: Block | None, lines: list[str]) -> Block:
    """A ```text block separated from a ```sh block by blank lines only is its sample output."""
    if block.lang != "sh" or after is None or after.lang != "text":
        return block
    end = block.line + block.text.count("\n")  # index of the closing fence
    between = lines[end + 1 : after.line - 1]
    if any(line.strip() for line in between):
        return block
    return Block(block.doc, block.line, block.lang, block.text, block.markers, after.text)


def problems(block: Block) -> list[str]:
    """What is wrong with a block's markers or language, for the unit tier."""
    out = []
    if block.lang not in LANGUAGES:
        out.append(f"{block.id}: a ```{block.lang or '(no language)'} block: use one of {', '.join(LANGUAGES)}")
    for kind, arg in block.markers:
        if kind not in KINDS:
            out.append(f"{block.id}: unknown doc-test marker {kind!r} (known: {', '.join(KINDS)})")
        elif not arg.strip():
            out.append(f"{block.id}: doc-test marker {kind!r} without its argument (a reason, OLD=NEW, ...)")
        elif kind in ("image", "sub") and "=" not in arg:
            out.append(f"{block.id}: doc-test marker {kind} {arg!r}: expected OLD=NEW")
    if block.markers and block.lang != "sh":
        out.append(f"{block.id}: doc-test markers on a ```{block.lang} block, which is never run")
    return out


def script(block: Block) -> Script:
    """The bash script run for a block, with the image and literal substitutions applied."""
    text, changes = block.text, []
    images = [arg for kind, arg in block.markers if kind == "image"]
    for arg in images:
        old, new = arg.split("=", 1)
        if old not in text:
            raise ValueError(f"{block.id}: image marker: {old!r} is not in the block")
        text = text.replace(old, new)
        changes.append(f"{old} -> {new}")
    if images:
        text, dropped = re.subn(r"[ \t]+--pull\b", "", text)
        if dropped:
            changes.append("--pull dropped (no registry serves a locally built image)")
    for kind, arg in block.markers:
        if kind == "sub":
            old, new = arg.split("=", 1)
            if old not in text:
                raise ValueError(f"{block.id}: sub marker: {old!r} is not in the block")
            text = text.replace(old, new)
            changes.append(f"{old} -> {new}")
    return Script("set -euo pipefail\n" + text, changes)


def summary_shape(text: str) -> re.Pattern[str] | None:
    """The pytest summary line of a sample, as a pattern: its words kept, any numbers."""
    for line in reversed(text.splitlines()):
        m = SUMMARY.match(line.strip())
        if m:
            body = re.sub(r" \(\d+:\d\d:\d\d\)$", "", m["body"])  # pytest adds "(0:02:25)" past a minute
            words = re.split(r"\d+(?:\.\d+)?", body)
            number = r"\d+(?:\.\d+)?"
            return re.compile(r"^=+ " + number.join(re.escape(w) for w in words) + r"(?: \(\d+:\d\d:\d\d\))? =+$", re.M)
    return None
