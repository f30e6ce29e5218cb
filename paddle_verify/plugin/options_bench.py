"""The benchmarks' command-line options, added to the suite's one option group by
:func:`paddle_verify.plugin.options.pytest_addoption` (kept apart: one module would pass 250 lines).
The fixtures that read them are in ``bench_fixtures.py`` and ``bench_verdicts.py``."""

from __future__ import annotations

from typing import Any

from . import parsers


def add(group: Any) -> None:
    """``--threshold``, ``--bench-rounds``, ``--bench-cpus``, ``--rootfs-cache``, ``--against``,
    ``--calibrate``, ``--calibration``."""
    group.addoption(
        "--threshold",
        type=parsers.percent,
        default=5.0,
        metavar="PERCENT",
        help="benchmarks: the container may be this much slower than bare metal (default: 5)",
    )
    group.addoption(
        "--bench-rounds",
        type=parsers.count,
        default=25,
        metavar="N",
        help="benchmarks: interleaved CPU rounds per side (default: 25)",
    )
    group.addoption(
        "--bench-cpus",
        type=parsers.cpus,
        default=None,
        metavar="CPUS",
        help="benchmarks: run the container under this CPU quota, like docker run --cpus (default: none)",
    )
    group.addoption(
        "--rootfs-cache",
        default=None,
        metavar="DIR",
        help="benchmarks: where images are exported for the bare-metal side (default: ~/.cache/paddle-verify/rootfs)",
    )
    group.addoption(
        "--against",
        action="append",
        type=parsers.image,
        default=[],
        metavar="VARIANT=REF",
        help="benchmarks: run VARIANT's image against image REF (the last release's), paired, and gate new/old "
        "by --threshold (repeatable)",
    )
    group.addoption(
        "--calibrate",
        action="store_true",
        default=False,
        help="benchmarks: first measure the method's own bias and noise (each place against itself), choose each "
        "verdict's pairs and threshold from them, and write reports/calibration.json",
    )
    group.addoption(
        "--calibration",
        type=parsers.existing_file,
        default=None,
        metavar="PATH",
        help="benchmarks: choose each verdict's pairs and threshold from this calibration.json (of --calibrate)",
    )
