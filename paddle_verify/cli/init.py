"""``paddle-verify init``: a commented manifest written from an image, by the gate's own probe.

Reads the image once (:mod:`..facts.discover`: a labelled keep-alive container, one exec of
``inimage/probe.py``, removed when done, Ctrl-C and SIGTERM included), keeps what it meets
(:mod:`..facts.keep`), reads the text back with the manifest loader and writes it.

Exit status: 0 written; 1 written, but the image fails checks that no field of a manifest
relaxes (named on stderr); 2 a usage error, or interrupted (Ctrl-C, SIGTERM); 4 the image could not be read (absent, the engine
unreachable, no Python, the probe failed) or the file not written: one line on stderr,
nothing written, nothing left on the engine.
"""

from __future__ import annotations

import argparse
import re
import shlex
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Any

from ..manifest import FLAVOURS, ROLES, ManifestError

EXIT_UNMET, EXIT_INTERRUPTED, EXIT_UNREADABLE = 1, 2, 4


def variant_name(text: str) -> str:
    if text == "all" or not re.match(r"^[a-z0-9][a-z0-9._-]*$", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a variant name (lower case, digits, . _ -; not 'all')")
    return text


def _label(value: str) -> str:
    from ..plugin.parsers import label  # the gate's own parser, loaded when init runs (it needs docker-py)

    return label(value)


def _seconds(value: str) -> float:
    from ..plugin.parsers import seconds

    return seconds(value)


def add_parser(commands: Any) -> None:
    p: argparse.ArgumentParser = commands.add_parser(
        "init",
        help="write a commented manifest of what an image keeps (read by the gate's own probe)",
        description="Read IMAGE with the gate's probe and write a manifest of what it keeps; "
        "`pytest checks/ --manifest FILE --variant NAME` then passes against that image.",
    )
    p.add_argument("--image", required=True, metavar="REF", help="the image to read (on the engine, or --pull)")
    p.add_argument("--variant", required=True, type=variant_name, metavar="NAME", help="the variant's name")
    p.add_argument("--role", choices=ROLES, default="runtime", help="what the image is (default: runtime)")
    p.add_argument("--flavour", choices=FLAVOURS, default=None, help="cpu or gpu (default: as `paddle version` says)")
    p.add_argument("-o", "--output", type=Path, default=None, metavar="FILE", help="where to write (default: stdout)")
    p.add_argument("--pull", action="store_true", help="pull the image first (default: never pull)")
    p.add_argument(
        "--run-label",
        type=_label,
        default=None,
        metavar="VALUE",
        help="label what init creates with org.paddle-verify.run=VALUE (it is removed when init ends)",
    )
    p.add_argument(
        "--exec-timeout", type=_seconds, default=60.0, metavar="SECONDS", help="deadline of each command (60)"
    )
    p.set_defaults(func=run)


def _terminated(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # the session's cleanup runs as after Ctrl-C


def run(args: argparse.Namespace) -> int:
    # The engine side (docker-py) is imported here, not at the top: the `paddle-verify` command
    # must load on a bare GPU host for `paddle-verify host` (the standard library alone).
    from ..engine import EngineError, Session, connect, unreachable
    from ..facts.discover import ReadError, Request, read_image
    from ..facts.keep import draft_of
    from ..facts.missing import FactMissing
    from ..facts.probe import ENGINE_GONE
    from ..manifest.draft import render, validate

    request = Request(image=args.image, variant=args.variant, role=args.role, flavour=args.flavour)
    words = ["paddle-verify", "init", "--image", args.image, "--variant", args.variant, "--role", args.role]
    words += [
        *(["--flavour", args.flavour] if args.flavour else []),
        *(["-o", str(args.output)] if args.output else []),
    ]
    try:
        client = connect()
    except EngineError as exc:
        return _fail(str(exc))
    previous = signal.signal(signal.SIGTERM, _terminated)
    session = Session(client, run_label=args.run_label)
    try:
        facts = read_image(session, request, timeout=args.exec_timeout, pull=args.pull)
        kept = draft_of(facts, request, shlex.join(words))
        text = render(kept.draft)
        validate(text, args.output or "<stdout>")
    except (ReadError, FactMissing) as exc:
        return _fail(str(exc))
    except ManifestError as exc:  # a draft the loader refuses: the suite's fault, said as such
        return _fail(f"the manifest written does not load (a bug of paddle-verify init): {exc}")
    except ENGINE_GONE as exc:
        return _fail(unreachable(exc, session.url))
    except KeyboardInterrupt:
        print("paddle-verify init: interrupted: what it made on the engine is removed", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        session.close()
        client.close()
        signal.signal(signal.SIGTERM, previous)
    if args.output is None:
        sys.stdout.write(text)
    else:
        try:
            args.output.write_text(text, encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
        kept_lines = sum(1 for ln in text.splitlines() if ln and not ln.startswith(("#", "[")))
        print(f"wrote {args.output}: {kept_lines} values kept from {args.image} ({args.variant}, {args.role})")
    for check in kept.unmet:
        print(f"paddle-verify init: the image will fail {check}", file=sys.stderr)
    return EXIT_UNMET if kept.unmet else 0


def _fail(message: str) -> int:
    print(f"paddle-verify init: {message}", file=sys.stderr)
    return EXIT_UNREADABLE
