"""The run's life: markers, the ONE ``pytest_configure`` that builds the run's state (:class:`.run.Run`:
the selection, the engines, the reports' recorder, the baseline, the verdict store), signals
(SIGTERM tears down like Ctrl-C), the ``--session-timeout`` watchdog, the header."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from .. import report
from ..facts import baseline
from .reuse import Reuse
from .run import RUN_KEY, Run, run_of
from .selection import select, select_engines


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "role(name): check only variants whose role includes NAME (runtime, devel, demo)"
    )
    config.addinivalue_line("markers", "flavour(name): check only variants of flavour NAME (cpu, gpu)")
    config.addinivalue_line(
        "markers", "contract(field): check only variants whose contract sets FIELD (e.g. demo.train)"
    )
    config.addinivalue_line(
        "markers", "on_several_engines: compares the engines of a run with several --engine (else deselected)"
    )
    config.addinivalue_line(
        "markers", "devel_build(step): check only variants whose [contract.devel] builds list STEP (e.g. custom_op)"
    )
    config.addinivalue_line("markers", "ssh: the install page's SSH image (build, run, log in, stop, remove; security)")
    config.addinivalue_line(
        "markers",
        "gpu_device: the check needs the host's GPUs in the container; on a host without one, the first such "
        "check fails with what was looked at and the others are not run (skipped, naming that check)",
    )
    manifest, variants = select(config)
    report_dir = Path(config.invocation_params.dir, config.getoption("--report-dir"))
    is_worker = hasattr(config, "workerinput")
    if not is_worker and getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(report_dir / "junit.xml")
    recorder = report.Recorder(report_dir, manifest=str(manifest.path), enabled=not is_worker)
    config.pluginmanager.register(recorder, "paddle-verify-recorder")
    given = config.getoption("--baseline")
    base = baseline.load(Path(config.invocation_params.dir, given)) if given else None
    run = Run(config, manifest, variants, select_engines(config), recorder, baseline=base)
    config.stash[RUN_KEY] = run
    reuse_dir = config.getoption("--reuse-verdicts")
    if reuse_dir:
        run.reuse = Reuse(config, Path(config.invocation_params.dir, reuse_dir))
        config.pluginmanager.register(run.reuse, "paddle-verify-reuse")  # after the modules: its tryfirst hooks first
    if threading.current_thread() is threading.main_thread():
        # pytest tears down after Ctrl-C (KeyboardInterrupt) but not after SIGTERM: make them one.
        signal.signal(signal.SIGTERM, _terminate)
        # A process started in the background of a script inherits SIGINT ignored: Ctrl-C
        # (and the session timeout) must still stop the run cleanly.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


def pytest_sessionstart(session: pytest.Session) -> None:
    limit = session.config.getoption("--session-timeout")
    if limit:
        run = run_of(session.config)
        recorder = run.recorder

        def expire() -> None:
            recorder.note("stopped", f"the run exceeded --session-timeout={limit:g}s")
            # A real signal (not _thread.interrupt_main) also wakes a main thread blocked in a wait;
            # SIGTERM's handler is this plugin's own: it works whatever SIGINT's disposition.
            os.kill(os.getpid(), signal.SIGTERM)

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        run.watchdog = timer


def pytest_unconfigure(config: pytest.Config) -> None:
    run = config.stash.get(RUN_KEY, None)
    if run is not None and run.watchdog is not None:
        run.watchdog.cancel()


def pytest_report_header(config: pytest.Config) -> list[str]:
    run = run_of(config)
    manifest = run.manifest
    images = ", ".join(f"{v.name}={v.image}" for v in run.variants)
    fleet = ", ".join(f"{e.name}={e.url}" for e in run.engines)
    where = f"engine: {run.engines[0].url}" if len(run.engines) == 1 else f"engines: {fleet}"
    return [f"paddle-verify: manifest {manifest.path} ({manifest.name}); variants: {images}; {where}"]
