"""The run's life: markers, the selection read at configure time, the reports' recorder,
signals (SIGTERM tears down like Ctrl-C), the ``--session-timeout`` watchdog, the header."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest

from .. import report
from .selection import ENGINES_KEY, MANIFEST_KEY, SELECTED_KEY, select, select_engines

RECORDER_KEY = pytest.StashKey[report.Recorder]()


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
    config.stash[MANIFEST_KEY] = manifest
    config.stash[SELECTED_KEY] = variants
    config.stash[ENGINES_KEY] = select_engines(config)
    report_dir = Path(config.invocation_params.dir, config.getoption("--report-dir"))
    is_worker = hasattr(config, "workerinput")
    if not is_worker and getattr(config.option, "xmlpath", None) is None:
        config.option.xmlpath = str(report_dir / "junit.xml")
    recorder = report.Recorder(report_dir, manifest=str(manifest.path), enabled=not is_worker)
    config.stash[RECORDER_KEY] = recorder
    config.pluginmanager.register(recorder, "paddle-verify-recorder")
    if threading.current_thread() is threading.main_thread():
        # pytest tears down after Ctrl-C (KeyboardInterrupt) but not after SIGTERM: make them one.
        signal.signal(signal.SIGTERM, _terminate)
        # A process started in the background of a script inherits SIGINT ignored: Ctrl-C
        # (and the session timeout) must still stop the run cleanly.
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signal.Signals(signum).name}")


WATCHDOG_KEY = pytest.StashKey[threading.Timer]()


def pytest_sessionstart(session: pytest.Session) -> None:
    limit = session.config.getoption("--session-timeout")
    if limit:
        recorder = session.config.stash[RECORDER_KEY]

        def expire() -> None:
            recorder.note("stopped", f"the run exceeded --session-timeout={limit:g}s")
            # A real signal (not _thread.interrupt_main) also wakes a main thread blocked in a wait;
            # SIGTERM's handler is this plugin's own: it works whatever SIGINT's disposition.
            os.kill(os.getpid(), signal.SIGTERM)

        timer = threading.Timer(limit, expire)
        timer.daemon = True
        timer.start()
        session.config.stash[WATCHDOG_KEY] = timer


def pytest_unconfigure(config: pytest.Config) -> None:
    timer = config.stash.get(WATCHDOG_KEY, None)
    if timer is not None:
        timer.cancel()


def pytest_report_header(config: pytest.Config) -> list[str]:
    manifest = config.stash[MANIFEST_KEY]
    images = ", ".join(f"{v.name}={v.image}" for v in config.stash[SELECTED_KEY])
    fleet = ", ".join(f"{e.name}={e.url}" for e in config.stash[ENGINES_KEY])
    where = (
        f"engine: {config.stash[ENGINES_KEY][0].url}" if len(config.stash[ENGINES_KEY]) == 1 else f"engines: {fleet}"
    )
    return [f"paddle-verify: manifest {manifest.path} ({manifest.name}); variants: {images}; {where}"]
