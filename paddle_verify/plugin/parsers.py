"""Parsers of the option values: each returns the value or raises ``argparse.ArgumentTypeError``
with what is wrong and what would be right (pytest turns that into a usage error, exit 4)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ..argtypes import directory as directory  # re-exported: the options name every parser here
from ..argtypes import seconds as seconds
from ..engine.client import SCHEMES
from ..facts.baseline import BaselineError
from ..facts.baseline import load as load_baseline
from ..gpu import MODES
from ..manifest import TAG_RE


def tag(value: str) -> str:
    if not TAG_RE.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
    return value


def image(value: str) -> tuple[str, str]:
    name, sep, ref = value.partition("=")
    if not sep or not name.strip() or not ref.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not VARIANT=IMAGE (e.g. cpu=myrepo/paddle:cpu)")
    return name.strip(), ref.strip()


def engine(value: str) -> tuple[str, str]:
    name, sep, url = (part.strip() for part in value.partition("="))
    if not sep or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}", name):
        raise argparse.ArgumentTypeError(
            f"{value!r} is not NAME=URL (NAME: letters, digits, '_', '.', '-'; e.g. gpu-a=ssh://root@gpu-a)"
        )
    if not url.startswith(SCHEMES) or len(url) <= len(url.split("://")[0]) + 3:
        raise argparse.ArgumentTypeError(f"{value!r}: the URL must start with {', '.join(SCHEMES)}")
    return name, url


def existing_file(value: str) -> str:
    if not Path(value).is_file():
        raise argparse.ArgumentTypeError(f"{value!r} is not an existing file")
    return value


def baseline(value: str) -> str:
    """A ``facts.json`` of an earlier run (read now: a bad one is a usage error)."""
    try:
        load_baseline(Path(value))
    except BaselineError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def percent(value: str) -> float:
    try:
        pct = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a percentage") from None
    if not 0 <= pct < 100:
        raise argparse.ArgumentTypeError(f"{value!r}: a percentage from 0 to 100")
    return pct


def count(value: str) -> int:
    if not value.isdigit() or not 2 <= int(value) <= 10000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a count from 2 to 10000")
    return int(value)


def cpus(value: str) -> float:
    try:
        cpus = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of CPUs") from None
    if not 0.01 <= cpus <= 1024:
        raise argparse.ArgumentTypeError(f"{value!r}: CPUs from 0.01 to 1024")
    return cpus


def memory(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*[kmg]?", value.lower()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a memory size like 512m or 2g")
    return value.lower()


def label(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}", value):
        raise argparse.ArgumentTypeError(f"{value!r}: letters, digits, '_', '.', ':', '-', at most 63")
    return value


def gpu_mode(value: str) -> str:
    if value not in MODES:
        raise argparse.ArgumentTypeError(f"{value!r} is not a GPU mapping mode (valid: {', '.join(MODES)})")
    return value


def store(value: str) -> str:
    """A folder to keep a store in: absent (it is made) or a directory, not a file."""
    if not value or (Path(value).exists() and not Path(value).is_dir()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a directory (an existing one, or one to make)")
    return value
