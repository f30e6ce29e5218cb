"""Every command-line option of the suite, in one group, each validated when parsed.

A bad value is a usage error (exit code 4) that names the problem and the valid
choices, and nothing is created. testinfra's own pytest plugin is not loaded (the
suite's ``host`` fixture replaces its one) and its options are hidden from ``--help``.
"""

from __future__ import annotations

import argparse

import pytest

from ..manifest.shipped import DEFAULT, shipped
from . import options_bench, parsers

# testinfra's pytest plugin: its `host` fixture would shadow the suite's, its options crowd --help.
TESTINFRA_PLUGIN = "pytest11.testinfra"


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _without_testinfra_plugin(parser, pluginmanager)
    group = parser.getgroup("paddle-verify", "PaddlePaddle image verification")
    group.addoption(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="variant(s) to check: a name, a comma list, or 'all' (repeatable; default: all)",
    )
    group.addoption(
        "--tag", type=parsers.tag, default=None, help="image tag to check (default: the manifest's, e.g. latest)"
    )
    group.addoption(
        "--image",
        action="append",
        type=parsers.image,
        default=[],
        metavar="VARIANT=REF",
        help="check image REF as VARIANT (repeatable); selects VARIANT when --variant is not given",
    )
    group.addoption(
        "--manifest",
        default=None,
        metavar="NAME|PATH",
        help=f"variant manifest: a shipped one by name ({', '.join(shipped())}), or a TOML file "
        f"(default: {DEFAULT}, the install page's six images; see docs/manifests.md)",
    )
    group.addoption(
        "--pull",
        action="store_true",
        help="every engine pulls every image from its registry (present or not); the repository digest each "
        "engine ran is recorded and compared across engines (default: never pull)",
    )
    group.addoption(
        "--exec-timeout",
        type=parsers.seconds,
        default=60.0,
        metavar="SECONDS",
        help="deadline of each command run in an image (default: 60)",
    )
    group.addoption(
        "--session-timeout",
        type=parsers.seconds,
        default=None,
        metavar="SECONDS",
        help="stop the whole run after this long, cleaning up as after Ctrl-C (default: no limit)",
    )
    group.addoption(
        "--memory",
        type=parsers.memory,
        default=None,
        metavar="LIMIT",
        help="memory limit of the check containers, like docker run --memory (e.g. 512m; default: none)",
    )
    group.addoption(
        "--run-label",
        type=parsers.label,
        default=None,
        metavar="VALUE",
        help="label everything this run creates with org.paddle-verify.run=VALUE (e.g. the CI job id)",
    )
    options_bench.add(group)  # the benchmarks' options, in the same group (options_bench.py)
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
        help="build context of the SSH image, Dockerfile with a BASE argument (default: the packaged one, paddle_verify/data/ssh)",
    )
    group.addoption(
        "--ssh-bind",
        default="127.0.0.1",
        metavar="ADDR",
        help="address the SSH container's port is published on (default: 127.0.0.1)",
    )
    group.addoption(
        "--gpu-mode",
        type=parsers.gpu_mode,
        default="seed",
        metavar="{seed,gpus,cdi}",
        help="how gpu variants get the host's GPUs: seed (the install page's --device and -v for each "
        "/dev/nvidia* and driver library), gpus (--gpus all, the NVIDIA runtime) or cdi (--device "
        "nvidia.com/gpu=all, the host's CDI specs; Podman) (default: seed)",
    )
    group.addoption(
        "--allow-no-gpu",
        action="store_true",
        default=False,
        help="on a host without a GPU, run the gpu variants' image checks (on the CPU) and report their "
        "GPU-device checks as not run, once, by name, instead of failing (default: fail once)",
    )
    group.addoption(
        "--driver-lib-dir",
        action="append",
        type=parsers.directory,
        default=[],
        metavar="DIR",
        help="also look for the driver's libcuda*/libnvidia* here (repeatable; default: /usr/lib64 and the "
        "multiarch directory)",
    )
    group.addoption(
        "--engine",
        action="append",
        type=parsers.engine,
        default=[],
        metavar="NAME=URL",
        help="check on this Docker engine (unix:///..., tcp://HOST:PORT, ssh://USER@HOST[:PORT]); repeatable: "
        "every check runs on every engine, ids VARIANT@NAME (default: the local engine, DOCKER_HOST or "
        "unix:///var/run/docker.sock)",
    )
    group.addoption(
        "--engine-tls-ca",
        type=parsers.existing_file,
        default=None,
        metavar="PATH",
        help="tcp:// engines: the CA certificate the daemons' certificates are checked against (TLS)",
    )
    group.addoption(
        "--engine-tls-cert",
        type=parsers.existing_file,
        default=None,
        metavar="PATH",
        help="tcp:// engines: the client certificate (TLS; with --engine-tls-key)",
    )
    group.addoption(
        "--engine-tls-key",
        type=parsers.existing_file,
        default=None,
        metavar="PATH",
        help="tcp:// engines: the client certificate's key (TLS)",
    )
    group.addoption(
        "--baseline",
        type=parsers.baseline,
        default=None,
        metavar="PATH",
        help="gate against an earlier run's facts.json (e.g. the last release's): Python and Debian packages "
        "removed or changed in their major version (unless [changes] in the manifest says why), build lines "
        "changed, the image grown by more than --size-growth (default: no baseline checks)",
    )
    group.addoption(
        "--size-growth",
        type=parsers.percent,
        default=10.0,
        metavar="PERCENT",
        help="with --baseline: how much bigger than the baseline's an image may be (default: 10)",
    )
    group.addoption(
        "--reuse-verdicts",
        type=parsers.store,
        metavar="DIR",
        help="report a variant passed from a run stored in DIR when its key (image ID and layers, contract, suite "
        "code, options, engine, GPU) is unchanged and every check passed then; store this run's (default: off)",
    )
    group.addoption(
        "--report-dir",
        default="reports",
        metavar="DIR",
        help="where JUnit XML, summary.json and report.html go (default: reports)",
    )


def _without_testinfra_plugin(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """Unload testinfra's pytest plugin (testinfra stays the library behind the suite's ``host``).

    Its options are already added by then: they are hidden from ``--help``, and unused.
    """
    plugin = pluginmanager.get_plugin(TESTINFRA_PLUGIN)
    pluginmanager.set_blocked(TESTINFRA_PLUGIN)
    if plugin is None:
        return  # blocked before it loaded: its options were never added
    pluginmanager.unregister(plugin)
    for option in parser.getgroup("testinfra").options:
        option.attrs()["help"] = argparse.SUPPRESS  # attrs(): the option's own dict
