"""The ``paddle-verify`` command: one subcommand per module of this package.

Owns: the argument parser and the dispatch. Each subcommand module exposes
``add_parser(commands)`` (registers its parser, sets ``func``) and does its work in
``run(args) -> int``; the exit status is the subcommand's.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import host, init, merge

SUBCOMMANDS = (init, merge, host)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="paddle-verify", description="paddle-verify: PaddlePaddle image verification")
    commands = parser.add_subparsers(dest="command", required=True)
    for module in SUBCOMMANDS:
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
