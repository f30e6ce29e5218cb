"""The verdict store of ``--reuse-verdicts DIR`` (``DIR/verdicts.json``): for each variant whose
checks ALL passed in a run, the key it passed under, the checks, the run and its time, and its
facts snapshot (so the reports and the SBOM of a reused variant are the same as that run's).

Owns: the key (:func:`key`: a SHA-256 over the parts, each named, so a change to any part is a
new key), the hash of the suite's code (:func:`code_hash`), reading a store (:func:`load`: a
corrupt or foreign file is an empty store and one reason) and writing it atomically (:func:`save`:
a temporary file in DIR, then ``os.replace``). What counts as a part of the key, and when a
verdict is reused, is the plugin's (``plugin/reuse.py``).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

FILE = "verdicts.json"
FORMAT = "paddle-verify/verdicts"
VERSION = 1
KEEP = 200  # records kept in a store (the newest), so that a long-lived CI cache stays small


@dataclass(frozen=True)
class Record:
    """One variant's run in which every check passed."""

    key: str
    variant: str  # its id (``cpu``, ``cpu@b``)
    run: str  # the run's id (``--run-label``, else its session id)
    time: str  # when it passed (UTC, ISO 8601)
    checks: list[str] = field(default_factory=list)  # the node ids that passed
    facts: dict[str, Any] = field(default_factory=dict)  # its facts.json entry

    def covers(self, nodeids: Iterable[str]) -> bool:
        """Whether every one of ``nodeids`` passed in this record's run."""
        return set(nodeids) <= set(self.checks)


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def key(parts: Mapping[str, Any]) -> str:
    """The key of a variant's verdict: the SHA-256 of its named parts (canonical JSON)."""
    return hashlib.sha256(_canonical(parts).encode()).hexdigest()


def code_hash(files: Iterable[Path]) -> str:
    """A SHA-256 over the files' paths (their names) and contents, in a stable order."""
    digest = hashlib.sha256()
    for path in sorted({Path(p) for p in files}, key=lambda p: p.as_posix()):
        digest.update(path.name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError as exc:  # a file gone since collection: a key that matches nothing stored
            digest.update(f"unreadable: {exc}".encode())
        digest.update(b"\0")
    return digest.hexdigest()


def package_files(root: Path) -> list[Path]:
    """The suite's own code and data: every file of the package (its .py, the manifests, the SSH context)."""
    return [p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]


def load(folder: Path) -> tuple[dict[str, Record], str | None]:
    """The records of ``folder``'s store by key, and why the store was ignored (None: it was read,
    or there is none yet)."""
    path = folder / FILE
    if not path.exists():
        return {}, None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, f"{path}: not readable as JSON ({exc}): ignored, every variant runs"
    if not isinstance(data, dict) or data.get("format") != FORMAT or data.get("version") != VERSION:
        return {}, f"{path}: not a verdict store of {FORMAT} version {VERSION}: ignored, every variant runs"
    try:
        records = {k: Record(**r) for k, r in data["records"].items()}
    except (KeyError, TypeError, AttributeError) as exc:
        return {}, f"{path}: a damaged verdict store ({exc!r}): ignored, every variant runs"
    if any(k != r.key for k, r in records.items()):
        return {}, f"{path}: a damaged verdict store (a record under another key): ignored, every variant runs"
    return records, None


def save(folder: Path, records: Mapping[str, Record]) -> Path:
    """Write the store atomically (a temporary file beside it, then ``os.replace``): a reader sees
    the old store or the new one, never half of one. The newest :data:`KEEP` records are kept."""
    folder.mkdir(parents=True, exist_ok=True)
    newest = sorted(records.values(), key=lambda r: r.time, reverse=True)[:KEEP]
    data = {"format": FORMAT, "version": VERSION, "records": {r.key: asdict(r) for r in newest}}
    fd, tmp = tempfile.mkstemp(prefix=".verdicts-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, folder / FILE)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return folder / FILE
