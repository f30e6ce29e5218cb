"""``paddle-verify merge``: the report directories of shard runs (or of one job's runs over several
manifests) merged into one report; exit 0 when merged (with ``--exit-status``: the merged report's
status), 4 when the shards cannot be merged."""

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
    m.add_argument(
        "--exit-status",
        action="store_true",
        help="exit with the merged report's status (the worst of the shards': 1 a check failed, 8 only the "
        "host's failures, a shard's 2, 4, 7), not 0 for a merge done (make check)",
    )
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
    return int(summary["exit_status"]) if args.exit_status else 0
