"""The pytest plugin: every option of the suite, the variant parametrization, the
fixtures that own Docker resources, and the reports.

Options are validated when parsed; a bad value is a usage error (exit code 4)
that names the problem and the valid choices, and nothing is created.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import threading
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

from . import gpu, report
from .engine import DaemonUnreachable, Session, connect, daemon_url
from .facts import Fleet, VariantFacts
from .manifest import TAG_RE, Manifest, ManifestError, Variant, load

EXIT_DAEMON = 7  # distinct from pytest's 1 (failed), 4 (usage) and 5 (no tests)
DEFAULT_MANIFEST = "variants/paddledev.toml"
MANIFEST_KEY = pytest.StashKey[Manifest]()
SELECTED_KEY = pytest.StashKey[list[Variant]]()
RECORDER_KEY = pytest.StashKey[report.Recorder]()

# Per-item parameters: a check that takes one of these arguments runs once per
# variant and per item the variant's contract lists.
ITEMS: dict[str, Callable[[Variant], Iterable[str]]] = {
    "package": lambda v: v.runtime.packages,
    "subcommand": lambda v: v.runtime.launcher_subcommands,
    "command": lambda v: (v.runtime.launcher, *v.runtime.commands, *(v.demo.commands if v.demo else ())),
    "tool": lambda v: v.devel.toolchain if v.devel else (),
    "demo_package": lambda v: v.demo.packages if v.demo else (),
}


# --- options -----------------------------------------------------------------


def _tag(value: str) -> str:
    if not TAG_RE.match(value):
        raise argparse.ArgumentTypeError(f"{value!r} is not an image tag (letters, digits, '_', '.', '-'; at most 128)")
    return value


def _image(value: str) -> tuple[str, str]:
    name, sep, ref = value.partition("=")
    if not sep or not name.strip() or not ref.strip():
        raise argparse.ArgumentTypeError(f"{value!r} is not VARIANT=IMAGE (e.g. cpu=myrepo/paddle:cpu)")
    return name.strip(), ref.strip()


def _seconds(value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of seconds") from None
    if not 0 < seconds <= 24 * 3600:
        raise argparse.ArgumentTypeError(f"{value!r}: seconds must be > 0 and at most a day")
    return seconds


def _percent(value: str) -> float:
    try:
        pct = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a percentage") from None
    if not 0 <= pct < 100:
        raise argparse.ArgumentTypeError(f"{value!r}: a percentage from 0 to 100")
    return pct


def _count(value: str) -> int:
    if not value.isdigit() or not 2 <= int(value) <= 10000:
        raise argparse.ArgumentTypeError(f"{value!r} is not a count from 2 to 10000")
    return int(value)


def _cpus(value: str) -> float:
    try:
        cpus = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number of CPUs") from None
    if not 0.01 <= cpus <= 1024:
        raise argparse.ArgumentTypeError(f"{value!r}: CPUs from 0.01 to 1024")
    return cpus


def _memory(value: str) -> str:
    if not re.fullmatch(r"[1-9][0-9]*[kmg]?", value.lower()):
        raise argparse.ArgumentTypeError(f"{value!r} is not a memory size like 512m or 2g")
    return value.lower()


def _label(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,62}", value):
        raise argparse.ArgumentTypeError(f"{value!r}: letters, digits, '_', '.', ':', '-', at most 63")
    return value


def _gpu_mode(value: str) -> str:
    if value not in gpu.MODES:
        raise argparse.ArgumentTypeError(f"{value!r} is not a GPU mapping mode (valid: {', '.join(gpu.MODES)})")
    return value


def _directory(value: str) -> Path:
    path = Path(value)
    if not path.is_absolute() or not path.is_dir():
        raise argparse.ArgumentTypeError(f"{value!r} is not an absolute path of an existing directory")
    return path


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("paddle-verify", "PaddlePaddle image verification")
    group.addoption(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="variant(s) to check: a name, a comma list, or 'all' (repeatable; default: all)",
    )
    group.addoption("--tag", type=_tag, default=None, help="image tag to check (default: the manifest's, e.g. latest)")
    group.addoption(
        "--image",
        action="append",
        type=_image,
        default=[],
        metavar="VARIANT=REF",
        help="check image REF as VARIANT (repeatable); selects VARIANT when --variant is not given",
    )
    group.addoption(
        "--manifest",
        default=None,
        metavar="PATH",
        help=f"variant manifest (TOML; default: {DEFAULT_MANIFEST})",
    )
    group.addoption(
        "--pull", action="store_true", default=False, help="pull an image that is not present (default: never pull)"
    )
    group.addoption(
        "--exec-timeout",
        type=_seconds,
        default=60.0,
        metavar="SECONDS",
        help="deadline of each command run in an image (default: 60)",
    )
    group.addoption(
        "--session-timeout",
        type=_seconds,
        default=None,
        metavar="SECONDS",
        help="stop the whole run after this long, cleaning up as after Ctrl-C (default: no limit)",
    )
    group.addoption(
        "--memory",
        type=_memory,
        default=None,
        metavar="LIMIT",
        help="memory limit of the check containers, like docker run --memory (e.g. 512m; default: none)",
    )
    group.addoption(
        "--run-label",
        type=_label,
        default=None,
        metavar="VALUE",
        help="label everything this run creates with org.paddle-verify.run=VALUE (e.g. the CI job id)",
    )
    group.addoption(
        "--threshold",
        type=_percent,
        default=5.0,
        metavar="PERCENT",
        help="benchmarks: the container may be this much slower than bare metal (default: 5)",
    )
    group.addoption(
        "--bench-rounds",
        type=_count,
        default=25,
        metavar="N",
        help="benchmarks: interleaved CPU rounds per side (default: 25)",
    )
    group.addoption(
        "--bench-cpus",
        type=_cpus,
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
        "--release",
        action="store_true",
        default=False,
        help="release gating: security findings (SSH image) fail instead of warning",
    )
    group.addoption(
        "--ssh-password",
        default=None,
        metavar="PASSWORD",
        help="root password of the SSH image's containers (default: random per session)",
    )
    group.addoption(
        "--ssh-context",
        default=None,
        metavar="DIR",
        help="build context of the SSH image, Dockerfile with a BASE argument (default: images/ssh)",
    )
    group.addoption(
        "--ssh-bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address the SSH container's port is published on (default: 127.0.0.1)",
    )
    group.addoption(
        "--gpu-mode",
        type=_gpu_mode,
        default="seed",
        metavar="{seed,gpus}",
        help="how gpu variants get the host's GPUs: seed (the install page's --device and -v for each "
        "/dev/nvidia* and driver library) or gpus (--gpus all, the NVIDIA runtime) (default: seed)",
    )
    group.addoption(
        "--driver-lib-dir",
        action="append",
        type=_directory,
        default=[],
        metavar="DIR",
        help="also look for the driver's libcuda*/libnvidia* here (repeatable; default: /usr/lib64 and the "
        "multiarch directory)",
    )
    group.addoption(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where JUnit XML, summary.json and report.html go (default: reports)",
    )


def _manifest_path(config: pytest.Config) -> Path:
    given = config.getoption("--manifest")
    if given:
        return Path(config.invocation_params.dir, given)
    return config.rootpath / DEFAULT_MANIFEST


def select(config: pytest.Config) -> tuple[Manifest, list[Variant]]:
    """The manifest and the selected variants, or a :class:`pytest.UsageError`."""
    path = _manifest_path(config)
    try:
        manifest = load(path, tag=config.getoption("--tag"))
    except ManifestError as exc:
        raise pytest.UsageError(f"bad manifest: {exc}") from None
    valid = ", ".join([*manifest.variants, "all"])
    names = [n.strip() for arg in config.getoption("--variant") for n in arg.split(",")]
    if any(not n for n in names):
        raise pytest.UsageError(f"--variant: empty variant name (valid: {valid})")
    images: dict[str, str] = {}
    for name, ref in config.getoption("--image"):
        if name not in manifest.variants:
            raise pytest.UsageError(f"--image {name}={ref}: unknown variant {name!r} (valid: {valid})")
        images[name] = ref
    if not names:
        names = list(images) or ["all"]
    unknown = [n for n in names if n != "all" and n not in manifest.variants]
    if unknown:
        raise pytest.UsageError(f"--variant: unknown variant {', '.join(map(repr, unknown))} (valid: {valid})")
    return manifest, [v.with_image(images[v.name]) if v.name in images else v for v in manifest.select(names)]


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "role(name): check only variants whose role includes NAME (runtime, devel, demo)"
    )
    config.addinivalue_line("markers", "flavour(name): check only variants of flavour NAME (cpu, gpu)")
    config.addinivalue_line(
        "markers", "contract(field): check only variants whose contract sets FIELD (e.g. demo.train)"
    )
    config.addinivalue_line("markers", "ssh: the install page's SSH image (build, run, log in, stop, remove; security)")
    config.addinivalue_line(
        "markers",
        "gpu_device: the check needs the host's GPUs in the container; on a host without one, the first such "
        "check fails with what was looked at and the others are not run (skipped, naming that check)",
    )
    manifest, selected = select(config)
    config.stash[MANIFEST_KEY] = manifest
    config.stash[SELECTED_KEY] = selected
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


# --- parametrization ---------------------------------------------------------


def _applies(variant: Variant, item: pytest.Function | Any) -> bool:
    for mark in item.iter_markers("role"):
        if not variant.has_role(mark.args[0]):
            return False
    for mark in item.iter_markers("flavour"):
        if variant.flavour != mark.args[0]:
            return False
    return all(_attr_path(variant, mark.args[0]) for mark in item.iter_markers("contract"))


def _attr_path(variant: Variant, path: str) -> Any:
    value: Any = variant
    for part in path.split("."):
        value = getattr(value, part, None)
    return value


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "variant" not in metafunc.fixturenames:
        return
    variants = [v for v in metafunc.config.stash[SELECTED_KEY] if _applies(v, metafunc.definition)]
    item_arg = next((name for name in ITEMS if name in metafunc.fixturenames), None)
    if item_arg is None:
        metafunc.parametrize("variant", variants, ids=[v.name for v in variants])
        return
    pairs = [(v, item) for v in variants for item in ITEMS[item_arg](v)]
    metafunc.parametrize(["variant", item_arg], pairs, ids=[f"{v.name}-{item}" for v, item in pairs])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # A check that applies to none of the selected variants (a devel check when
    # only runtime variants run) is deselected, not reported as a skip.
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        uses_variant = "variant" in getattr(item, "fixturenames", ())
        params = getattr(getattr(item, "callspec", None), "params", {})
        (drop if uses_variant and not isinstance(params.get("variant"), Variant) else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and isinstance(callspec.params.get("variant"), Variant):
            item.user_properties.append(("variant", callspec.params["variant"].name))


# --- fixtures ----------------------------------------------------------------


@pytest.fixture(scope="session")
def selected_variants(pytestconfig: pytest.Config) -> list[Variant]:
    """Every variant this run checks, in manifest order."""
    variants = pytestconfig.stash[SELECTED_KEY]
    return variants.copy()


@pytest.fixture(scope="session")
def docker_session(pytestconfig: pytest.Config) -> Generator[Session, None, None]:
    """The engine connection and this run's labels; removes all it made at the end."""
    try:
        client = connect()
    except DaemonUnreachable as exc:
        pytest.exit(str(exc), returncode=EXIT_DAEMON)
    session = Session(client, run_label=pytestconfig.getoption("--run-label"))
    swept = session.sweep_dead()
    pytestconfig.stash[RECORDER_KEY].note("swept", swept)
    pytestconfig.stash[RECORDER_KEY].note("session", session.id)
    try:
        yield session
    finally:
        session.close()
        client.close()


@pytest.fixture(scope="session")
def fleet(
    docker_session: Session, selected_variants: list[Variant], pytestconfig: pytest.Config
) -> Generator[Fleet, None, None]:
    """Facts of every selected variant, gathered concurrently on first use."""
    fleet = Fleet(
        docker_session,
        selected_variants,
        timeout=pytestconfig.getoption("--exec-timeout"),
        pull=pytestconfig.getoption("--pull"),
        memory=pytestconfig.getoption("--memory"),
    )
    if not hasattr(pytestconfig, "workerinput"):
        fleet.start()  # all variants at once; an xdist worker gathers only the variants it is given
    try:
        yield fleet
    finally:
        fleet.close()
        pytestconfig.stash[RECORDER_KEY].note(
            "variants",
            {
                name: {"execs": f.result().execs, "seconds": round(f.result().seconds, 3)}
                for name, f in fleet._futures.items()
                if f.done() and not f.cancelled() and f.exception() is None
            },
        )


@pytest.fixture
def facts(variant: Variant, fleet: Fleet) -> VariantFacts:
    """What the suite learned about ``variant``'s image (gathered once per session)."""
    return fleet.facts(variant.name)


@pytest.fixture
def all_facts(selected_variants: list[Variant], fleet: Fleet) -> list[VariantFacts]:
    return [fleet.facts(v.name) for v in selected_variants]


@pytest.fixture(scope="session")
def engine_info(docker_session: Session) -> dict[str, Any]:
    """The daemon's ``docker info`` (kernel, OS, runtimes)."""
    return dict(docker_session.client.info())


HOST_GPUS_KEY = pytest.StashKey[gpu.HostGpus]()


def host_gpus_of(config: pytest.Config) -> gpu.HostGpus:
    """The host's GPUs, looked up once per run (``--driver-lib-dir`` adds library directories)."""
    if HOST_GPUS_KEY not in config.stash:
        config.stash[HOST_GPUS_KEY] = gpu.discover(lib_dirs=config.getoption("--driver-lib-dir"))
    return config.stash[HOST_GPUS_KEY]


@pytest.fixture(scope="session")
def host_gpus(pytestconfig: pytest.Config) -> gpu.HostGpus:
    """The host's NVIDIA GPUs, device nodes, driver version and libraries (see :func:`gpu.discover`)."""
    return host_gpus_of(pytestconfig)


@pytest.fixture
def host(variant: Variant, fleet: Fleet, facts: VariantFacts) -> Any:
    """A testinfra host for ``variant``'s keep-alive container."""
    import testinfra

    if facts.container_id is None:
        pytest.fail(f"{variant.name}: no running container ({facts.image_error or facts.probe_error})")
    return testinfra.get_host(f"docker://{facts.container_id}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    manifest = config.stash[MANIFEST_KEY]
    selected = config.stash[SELECTED_KEY]
    images = ", ".join(f"{v.name}={v.image}" for v in selected)
    return [f"paddle-verify: manifest {manifest.path} ({manifest.name}); variants: {images}; engine: {daemon_url()}"]
