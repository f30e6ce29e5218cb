"""``paddle-verify host``: is this GPU host ready for the manifest's gpu variants? No engine needed.

Reports the host's GPUs, driver, libraries and device nodes, libcuda's own count and UUIDs, and
the driver fit of each gpu variant (see :mod:`paddle_verify.gpu.readiness`). Exit 0: ready for
every gpu variant; :data:`~paddle_verify.exits.EXIT_HOST`: not ready, each reason named; 4: a
bad manifest. Imports the standard library alone, so it runs on a bare GPU host.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..argtypes import directory, seconds
from ..exits import EXIT_HOST
from ..gpu.host import discover
from ..gpu.readiness import assess

if TYPE_CHECKING:
    from ..manifest import Variant


def add_parser(commands: Any) -> None:
    h: argparse.ArgumentParser = commands.add_parser(
        "host", help="is this GPU host ready for the manifest's gpu variants? (no engine needed)"
    )
    h.add_argument("--manifest", type=Path, metavar="M", help="judge the driver for this manifest's gpu variants")
    h.add_argument(
        "--driver-lib-dir",
        action="append",
        type=directory,
        default=[],
        metavar="DIR",
        help="also look for the driver's libraries (libcuda*, libnvidia*) here (repeatable)",
    )
    h.add_argument(
        "--root",
        type=directory,
        default=Path("/"),
        metavar="DIR",
        help="look up every host path under DIR (default: /; the suite's self-tests give a fake host tree)",
    )
    h.add_argument(
        "--timeout", type=seconds, default=30.0, metavar="SECONDS", help="deadline of each step (default: 30)"
    )
    h.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    variants: list[Variant] = []
    if args.manifest is not None:
        from ..manifest import ManifestError, load  # tomllib: Python 3.11, only when a manifest is given

        try:
            variants = list(load(args.manifest).variants.values())
        except ManifestError as exc:
            print(f"paddle-verify host: {exc}", file=sys.stderr)
            return 4
    host = discover(args.root, lib_dirs=args.driver_lib_dir, timeout=args.timeout)
    readiness = assess(host, variants, timeout=args.timeout)
    print("\n".join(readiness.lines))
    return 0 if readiness.ready else EXIT_HOST
