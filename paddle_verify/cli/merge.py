"""``paddle-verify merge``: the report directories of shard runs merged into one report."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    m: argparse.ArgumentParser = commands.add_parser(
        "merge", help="merge the report directories of shard runs into one report"
    )
    m.add_argument("dirs", nargs="+", type=Path, metavar="REPORT_DIR", help="a shard's --report-dir")
    m.add_argument("-o", "--out", required=True, type=Path, metavar="OUT", help="where the merged report goes")
    m.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..report.merge import MergeError, merge  # here: `paddle-verify host` runs where pytest is not

    try:
        summary = merge(args.dirs, args.out)
    except MergeError as exc:
        print(f"paddle-verify merge: {exc}", file=sys.stderr)
        return 4
    counts = ", ".join(
        f"{col}: " + ", ".join(f"{n} {k}" for k, n in sorted(c.items())) for col, c in summary["totals"].items()
    )
    print(f"merged {len(args.dirs)} shard(s) into {args.out}: {counts}; exit status {summary['exit_status']}")
    return 0
