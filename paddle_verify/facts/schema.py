"""The declared shape of what the in-image probes print (``inimage/probe.py``, ``gpu_probe.py``).

The probes run in the image's own Python and cannot import this; they write JSON, and
the host reads it through these types, so that a check that reads a key no probe
writes is a mypy error, not a KeyError at run time. A step that could not finish is
``{"error": ...}`` (:class:`StepError`) in place of its value; :mod:`.image` and
:mod:`paddle_verify.gpu.facts` turn that into a :class:`~.missing.FactMissing`. The host
side's own read of the image (``docker image inspect``) is typed here too (:class:`ImageInspect`).
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict


class StepError(TypedDict):
    error: str


class RunResult(TypedDict):
    """A command run with a deadline (``common.run``)."""

    argv: list[str]
    rc: int | None
    stdout: str
    stderr: str
    error: str | None
    timed_out: bool
    seconds: float


class ChildResult(RunResult):
    """A child interpreter (``common.python_child``): its last stdout line as JSON, or None."""

    data: Any


# --- probe.py ----------------------------------------------------------------


class CommandFact(TypedDict):
    name: str
    path: str | None
    executable: bool
    mode: str | None


class PackageFact(TypedDict):
    ok: bool
    version: NotRequired[str | None]
    file: NotRequired[str | None]
    error: NotRequired[str]
    trace: NotRequired[list[str]]


class PaddleBuild(TypedDict):
    version: NotRequired[str | None]
    commit: NotRequired[str | None]
    with_cuda: NotRequired[bool | None]
    cuda: NotRequired[str]  # paddle.version.cuda(): "11.8", or "False" for a cpu build
    cudnn: NotRequired[str]
    device: NotRequired[str]  # paddle.device.get_device(): "cpu" on a host without a GPU
    import_seconds: NotRequired[float]  # how long `import paddle` took
    error: NotRequired[str]


class Outcome(TypedDict):
    ok: bool
    error: NotRequired[str]


class Computation(Outcome):
    known: NotRequired[bool]  # False: the suite knows no computation for this paddle (0.x): not run
    paddle_version: NotRequired[str]  # the version that chose the API
    api: NotRequired[str]  # the calls used: "paddle.to_tensor + paddle.matmul", or fluid's for 1.x
    matmul: NotRequired[list[list[float]]]
    expected: NotRequired[list[list[float]]]


class Imports(TypedDict):
    packages: dict[str, PackageFact]
    paddle: PaddleBuild | None
    py_paddle_init: Outcome | None
    computation: Computation | None


class Headers(TypedDict):
    include: str
    python_h: bool


class SourceTree(TypedDict):
    dir: str
    exists: bool
    markers: dict[str, bool]
    files: int


class Devel(TypedDict):
    toolchain: dict[str, RunResult]
    headers: Headers
    sources: list[SourceTree]


class DevelBuild(TypedDict):
    """One build of ``inimage/devel.py`` (c, cxx, python_extension, custom_op, cuda): its phases in order
    (compile, run or import), the first that fails ends it."""

    step: str
    ok: bool  # every phase exited 0 and the last printed ``expected``
    phase: str | None  # the phase that ran last: the one that failed, when not ok
    argv: list[str]  # its command
    rc: int | None
    output: str  # its stderr and stdout, the last 1500 characters ("" when ok)
    expected: str
    got: str | None  # the last line the last phase printed
    seconds: float
    timed_out: bool


class CudaLibrary(TypedDict):
    ok: bool
    error: NotRequired[str]


class Cuda(TypedDict):
    """The CUDA libraries of a gpu image, loaded without a GPU (``probe.py``'s CUDA child)."""

    libraries: dict[str, CudaLibrary]
    runtime: str | None
    runtime_version: int | None  # 11080 for CUDA 11.8: cudaRuntimeGetVersion, or (no driver) the file
    runtime_version_from: str | None  # how it was read
    runtime_error: NotRequired[str | None]
    cudnn_version: int | None  # cudnnGetVersion: 8600 for cuDNN 8.6.0


class RunCheck(TypedDict):
    """``probe.py``'s RUN_CHECK child (``inimage/run_check.py``): which install check ran and what it
    raised; what it printed is the child's own stdout and stderr (:class:`ChildResult`)."""

    api: str | None  # "paddle.utils.run_check", "paddle.fluid.install_check.run_check", or None: none found
    error: str | None  # what it (or `import paddle`) raised: the traceback's last line


class PythonFact(TypedDict):
    """The image's Python, as the probe runs it (the manifest's ``python``)."""

    version: str  # "3.10.12"
    executable: str


class Training(TypedDict):
    losses: list[float]


class SecretFile(TypedDict):
    path: str
    what: str  # what it holds ("a private key (PEM 'PRIVATE KEY' header)"); never its content


class SecretScan(TypedDict):
    """The bounded walk for credentials left in files (``probe.py``'s ``secret_scan``)."""

    roots: list[str]  # what was walked: /root, /home, /etc, /opt, the workdir, the users' homes
    findings: list[SecretFile]  # the probe's own (by the file's kind) and, added on the host, by value
    candidates: NotRequired[list[str]]  # files that may hold a secret by its value: read on the host
    unread: NotRequired[list[str]]  # candidates the host could not read through the engine
    files: int  # regular files looked at
    truncated: str | None  # why the walk stopped early (its file limit, its deadline), or None


class InstalledPackages(TypedDict):
    """What is installed (``probe.py``'s ``installed_packages``), by name: the version."""

    python: dict[str, str]  # `pip list` of the image's Python (its dist-info metadata)
    debian: dict[str, str] | None  # `dpkg-query -W` (/var/lib/dpkg/status); None: no dpkg
    debian_arch: NotRequired[dict[str, str] | None]  # each Debian package's architecture (amd64, all)
    os_release: NotRequired[dict[str, str] | None]  # /etc/os-release: ID, VERSION_ID, VERSION_CODENAME


class PipCheck(TypedDict):
    """``python -m pip check`` in the image's Python (``probe.py``'s ``pip_check``)."""

    ran: bool
    why: NotRequired[str]  # why it did not run: "no pip in the image"
    result: NotRequired[RunResult]


class Probe(TypedDict):
    """``PADDLE_VERIFY_FACTS=`` of ``inimage/probe.py``."""

    kernel: str
    commands: dict[str, CommandFact]
    launcher_runs: dict[str, RunResult] | StepError
    imports: ChildResult | StepError  # data: Imports
    devel: Devel | None
    devel_builds: dict[str, DevelBuild | StepError] | None  # by step; None: no builds in the contract
    demo_train: ChildResult | StepError | None  # data: Training
    cuda: ChildResult | StepError | None  # data: Cuda (gpu variants)
    secrets: SecretScan | StepError | None
    packages: InstalledPackages | StepError | None
    pip_check: NotRequired[PipCheck | StepError | None]
    oom_kills: int | None
    python: NotRequired[PythonFact]
    run_check: NotRequired[ChildResult | StepError | None]  # data: RunCheck


# --- docker image inspect (the host side) ------------------------------------------


class ImageConfig(TypedDict, total=False):
    """``Config`` of ``docker image inspect``: what a container of the image starts with."""

    Env: list[str] | None  # ["NAME=value", ...]: what `docker exec` sees, before the suite's own env
    Cmd: list[str] | None
    Entrypoint: list[str] | None
    User: str
    WorkingDir: str
    ExposedPorts: dict[str, Any] | None


class ImageRootFS(TypedDict, total=False):
    Layers: list[str]


class ImageInspect(TypedDict, total=False):
    """The part of ``docker image inspect`` the suite reads (docker-py's ``Image.attrs``)."""

    Id: str
    RepoTags: list[str] | None
    RepoDigests: list[str] | None
    Size: int
    Config: ImageConfig | None
    RootFS: ImageRootFS


# The GPU probe's shapes are in schema_gpu.py (one module would pass 250 lines).
