"""Option value parsers that need nothing but the standard library: shared by the pytest options
(:mod:`paddle_verify.plugin.parsers`, which adds those that need the engine or the manifest) and
``paddle-verify host`` (which must load on a GPU host with the standard library alone). Each returns
the value or raises ``argparse.ArgumentTypeError`` saying what is wrong and what would be right."""

from __future__ import annotations

import argparse
from pathlib import Path


def seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"{value!r}: seconds must be > 0 and at most a day")
    return seconds


def directory(value: str) -> Path:
    path = Path(value)
    if not path.is_absolute() or not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not an absolute path of an existing directory")
    return path
