"""The benchmarks' measurements, as session fixtures beside their options (``options_bench.py``).

``cpu_results``, ``against_results``, ``gpu_results``, ``net_results`` and ``calibration_results``:
each a function ``f(variant)`` that measures once per variant (through the run's gatherer, so a
failed measurement fails every test that reads it, and a lost engine is one failure), then
hands out its :class:`~paddle_verify.bench.log.Comparison` objects; ``planner`` (each verdict's
pairs and threshold), ``bench_log`` (written to ``reports/`` at the end). A test file of
``benchmarks/``, or of a user's own repository, asks for them by name; what it does with a
comparison (``replay``, ``gate``) is in ``bench_verdicts.py``.

Nothing here runs unless a test asks for a fixture: a run of ``checks/`` measures nothing and
contacts no engine for it; the two hooks only read the selected items and the run's state (run.py).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from ..bench import calibration
from ..bench.against import EXTRAS, measure_against
from ..bench.baremetal import default_cache
from ..bench.calibration import Calibration, from_comparisons, measure_calibration
from ..bench.cpu import CPU_WORKLOADS, CpuSettings, Planner, default_plan, measure_cpu
from ..bench.gpu import gpu_settings, measure_gpu
from ..bench.log import BenchLog, Comparison
from ..bench.netclient import PathSamples
from ..bench.network import NetSettings, measure_network
from ..engine import ENGINE_GONE, EngineError, Session, translated
from ..facts import FactMissing, Gatherer, Kind
from ..gpu import GpuMapping, HostGpus
from ..manifest import Variant
from .run import RUN_KEY, run_of

T = TypeVar("T")


@pytest.fixture(scope="session")
def bench_log(pytestconfig: pytest.Config) -> Generator[BenchLog, None, None]:
    """Every comparison of the run; written to reports/ (JSON and one SVG per group) at the end."""
    log = BenchLog(Path(pytestconfig.invocation_params.dir, pytestconfig.getoption("--report-dir")))
    yield log
    for path in log.write():
        run_of(pytestconfig).bench_written.append(str(path))


def _cache(config: pytest.Config) -> Path:
    given = config.getoption("--rootfs-cache")
    return Path(given) if given else default_cache()


def measured(gatherer: Gatherer, name: str, measure: Callable[[Variant], T]) -> Callable[[Variant], T]:
    """``get(variant)``: measured once per variant by the run's gatherer, never two at once (the
    benchmarks ask one at a time); a measurement that failed fails every test that reads it."""

    def gather(variant: Variant) -> T:
        try:
            return measure(variant)
        except ENGINE_GONE as exc:  # docker-py's errors of a lost daemon: the engine's one failure
            lost = translated(exc, gatherer.session.url, variant=variant.name)
            raise FactMissing(str(lost), cause=lost.line, fault="host") from None
        except EngineError as exc:
            text = str(exc) if str(exc).startswith(variant.name) else f"{variant.name}: {exc}"
            raise FactMissing(text, fault=exc.fault) from None

    kind = Kind(name, gather)
    return lambda variant: gatherer.get(kind, variant)


def cpu_settings(config: pytest.Config) -> CpuSettings:
    """The CPU workloads of the selected tests only (``-k interp`` measures one), and the options."""
    chosen = run_of(config).bench_workloads
    return CpuSettings(
        rounds=config.getoption("--bench-rounds"),
        threshold=config.getoption("--threshold") / 100,
        cpus=config.getoption("--bench-cpus"),
        workloads=tuple(w for w in CPU_WORKLOADS if w in chosen) if chosen else CPU_WORKLOADS,
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Which CPU workloads the selected tests read (last: after ``-k`` and ``-m`` deselected):
    their ``workload`` or ``measure`` parameter."""
    run = config.stash.get(RUN_KEY, None)
    if run is None:  # no run (pytest_configure refused the options): nothing is measured
        return
    chosen = run.bench_workloads
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        chosen.update(str(params[key]) for key in ("workload", "measure") if key in params)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    written = run.bench_written if run else []
    if written:
        terminalreporter.write_line(f"benchmark results: {written[0]} and {len(written) - 1} plot(s)")


class Calibrations:
    """``calibrations(variant)``: each place against itself (measured once per variant, only with
    ``--calibrate``); ``calibrations.of(variant)``: the :class:`Calibration` made of it, the one
    object the verdicts' plans read and ``reports/calibration.json`` holds."""

    def __init__(self, get: Callable[[Variant], tuple[dict[str, dict[str, Comparison]], Calibration]], on: bool):
        self._get, self._on = get, on

    def __call__(self, variant: Variant) -> dict[str, dict[str, Comparison]]:
        return self._measured(variant)[0]

    def of(self, variant: Variant) -> Calibration:
        return self._measured(variant)[1]

    def _measured(self, variant: Variant) -> tuple[dict[str, dict[str, Comparison]], Calibration]:
        if not self._on:
            pytest.skip(f"{variant.name}: the A/A calibration runs with --calibrate")
        return self._get(variant)


@pytest.fixture(scope="session")
def calibration_results(
    docker_session: Session, gatherer: Gatherer, bench_log: BenchLog, pytestconfig: pytest.Config
) -> Generator[Calibrations, None, None]:
    """The A/A calibration of ``--calibrate`` (a skip without it); written to
    ``reports/calibration.json`` at the end."""
    settings, cache = cpu_settings(pytestconfig), _cache(pytestconfig)
    done: dict[str, Calibration] = {}

    def measure(variant: Variant) -> tuple[dict[str, dict[str, Comparison]], Calibration]:
        got = measure_calibration(docker_session, variant, bench_log, cache, settings)
        done[variant.name] = from_comparisons(got)
        return got, done[variant.name]

    yield Calibrations(measured(gatherer, "bench-calibrate", measure), bool(pytestconfig.getoption("--calibrate")))
    if done:
        calibration.save(Path(bench_log.report_dir, "calibration.json"), done)


@pytest.fixture(scope="session")
def planner(pytestconfig: pytest.Config, calibration_results: Calibrations) -> Callable[[Variant], Planner]:
    """Each variant's way to choose its verdicts' pairs and threshold: from the calibration of
    ``--calibrate`` (measured first: the one saved) or of ``--calibration PATH``; else
    ``--bench-rounds``, ``--threshold``."""
    given = pytestconfig.getoption("--calibration")
    saved = calibration.load(Path(given)) if given else {}

    def plan(variant: Variant) -> Planner:
        if pytestconfig.getoption("--calibrate"):
            return calibration_results.of(variant).plan
        if variant.name in saved:
            return saved[variant.name].plan
        return default_plan

    return plan


@pytest.fixture(scope="session")
def cpu_results(
    docker_session: Session,
    gatherer: Gatherer,
    bench_log: BenchLog,
    pytestconfig: pytest.Config,
    planner: Callable[[Variant], Planner],
) -> Callable[[Variant], dict[str, Comparison]]:
    """``cpu_results(variant)``: the interleaved CPU comparison of each workload (measured once)."""
    settings, cache = cpu_settings(pytestconfig), _cache(pytestconfig)
    return measured(
        gatherer, "bench-cpu", lambda v: measure_cpu(docker_session, v, bench_log, cache, settings, planner(v))
    )


@pytest.fixture(scope="session")
def against_results(
    docker_session: Session,
    gatherer: Gatherer,
    bench_log: BenchLog,
    pytestconfig: pytest.Config,
    planner: Callable[[Variant], Planner],
) -> Callable[[Variant], dict[str, Comparison]]:
    """``against_results(variant)``: the variant's image against ``--against``'s (measured once);
    a skip for a variant without one."""
    refs = dict(pytestconfig.getoption("--against"))
    settings = cpu_settings(pytestconfig)
    chosen = run_of(pytestconfig).bench_workloads
    extras = tuple(e for e in EXTRAS if e in chosen) if chosen & {*CPU_WORKLOADS, *EXTRAS} else EXTRAS
    get = measured(
        gatherer,
        "bench-against",
        lambda v: measure_against(docker_session, v, refs[v.name], bench_log, settings, planner(v), extras=extras),
    )

    def result(variant: Variant) -> dict[str, Comparison]:
        if variant.name not in refs:
            pytest.skip(f"{variant.name}: no --against {variant.name}=REF given")
        return get(variant)

    return result


@pytest.fixture(scope="session")
def gpu_results(
    docker_session: Session,
    gatherer: Gatherer,
    bench_log: BenchLog,
    host_gpus: HostGpus,
    gpu_mapping: GpuMapping,
    pytestconfig: pytest.Config,
) -> Callable[[Variant], dict[str, Comparison]]:
    """``gpu_results(variant)``: the interleaved GPU comparison of each workload; a skip without a GPU."""
    settings = gpu_settings(
        threshold=pytestconfig.getoption("--threshold") / 100, rounds=pytestconfig.getoption("--bench-rounds")
    )
    cache = _cache(pytestconfig)
    get = measured(
        gatherer,
        "bench-gpu",
        lambda v: measure_gpu(docker_session, v, bench_log, cache, settings, gpu_mapping, host_gpus),
    )

    def result(variant: Variant) -> dict[str, Comparison]:
        if not host_gpus.found:
            pytest.skip(f"{variant.name}: {host_gpus.absence()}")
        return get(variant)

    return result


@pytest.fixture(scope="session")
def net_results(
    docker_session: Session, gatherer: Gatherer, bench_log: BenchLog, pytestconfig: pytest.Config
) -> Callable[[Variant], list[PathSamples]]:
    """``net_results(variant)``: the four network paths, measured once per variant."""
    settings = NetSettings(threshold=pytestconfig.getoption("--threshold") / 100)
    cache = _cache(pytestconfig)
    return measured(gatherer, "bench-net", lambda v: measure_network(docker_session, v, bench_log, cache, settings))
