"""The run's state, in one object: :class:`Run`, built once by ``pytest_configure`` (``lifecycle.py``),
stored under one stash key and read through :func:`run_of` by every hook and fixture of the plugin.

Owns: the manifest, the selected variants, the engines and their columns (:class:`.fleet.Fleet`),
the reports' recorder, the baseline (``--baseline``), the verdict store (``--reuse-verdicts``),
the causes already reported (one cause, one failure: ``outcomes.py``), the session watchdog, the
benchmarks' selected workloads and written files, and the host's GPUs (looked up on first need); :func:`variant_of`, the variant a test item checks.
Nothing here reaches an engine: the fleet reaches its engines when first asked.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

from .. import gpu, report
from ..engine import Engine
from ..facts import Kind
from ..manifest import Manifest, Variant
from .fleet import Fleet

if TYPE_CHECKING:  # a type only: reuse.py reads the run
    from .reuse import Reuse

F = TypeVar("F")


@dataclass
class Run:
    """Everything one pytest run of the suite holds, the engines' columns included."""

    config: pytest.Config
    manifest: Manifest
    variants: list[Variant]  # the selected ones, in manifest order, on no engine in particular
    engines: list[Engine]
    recorder: report.Recorder
    baseline: dict[str, dict[str, Any]] | None = None  # --baseline's facts, by variant id
    reuse: Reuse | None = None  # --reuse-verdicts' store
    first: dict[str, str] = field(default_factory=dict)  # cause -> the node id that reported it
    watchdog: threading.Timer | None = None  # --session-timeout
    bench_workloads: set[str] = field(default_factory=set)  # the CPU workloads the selected benchmarks read
    bench_written: list[str] = field(default_factory=list)  # the benchmark log's files, for the summary
    fleet: Fleet = field(init=False)

    def __post_init__(self) -> None:
        self.fleet = Fleet(
            self.engines, note=lambda notes: self.recorder.note("engines", notes), host_gpus=lambda: self.host_gpus
        )

    @cached_property
    def host_gpus(self) -> gpu.HostGpus:
        """The host's GPUs, looked up once per run (``--driver-lib-dir`` adds library directories)."""
        return gpu.discover(lib_dirs=self.config.getoption("--driver-lib-dir"))

    @property
    def worker(self) -> bool:
        """An xdist worker (it gathers only the variants it is given; the controller reports)."""
        return hasattr(self.config, "workerinput")

    def engine_of(self, variant: Variant | None) -> Engine:
        return self.fleet.engine_of(variant)

    def on_engines(self, variants: Iterable[Variant]) -> list[Variant]:
        return self.fleet.on_engines(variants)

    def reused(self) -> set[str]:
        """The ids of the variants this run reports from a stored run (their facts are not gathered)."""
        return set(self.reuse.reused) if self.reuse else set()

    def start_all(
        self, kind: Kind[F], variants: Iterable[Variant], where: Callable[[Variant], bool] | None = None
    ) -> None:
        """Start gathering ``kind`` of ``variants`` on every engine, in the background, each in its
        column's gatherer: not on a lost engine (its column fails once), not for a variant reported
        from a stored run, nor for one (on its engine) that ``where`` refuses."""
        reused = self.reused()
        for variant in self.on_engines(variants):
            column = self.fleet.column(variant)
            if column.opened and variant.id not in reused and (where is None or where(variant)):
                column.gatherer.start(kind, [variant])


RUN_KEY = pytest.StashKey[Run]()


def run_of(config: pytest.Config) -> Run:
    """The run's one state (built by ``pytest_configure``)."""
    return config.stash[RUN_KEY]


def variant_of(item: pytest.Item) -> Variant | None:
    """The variant ``item`` checks (its ``variant`` parameter), if it takes one."""
    params = getattr(getattr(item, "callspec", None), "params", {})
    variant = params.get("variant")
    return variant if isinstance(variant, Variant) else None
