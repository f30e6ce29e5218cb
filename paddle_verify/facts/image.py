"""The facts of one variant's image as the checks read them (gathered by :mod:`.probe`).

:class:`ImageFacts` holds the probe's JSON (:class:`~.schema.Probe`) and the TTY
session; its accessors are typed and raise :class:`~.missing.FactMissing` naming the
variant and the reason when a fact could not be gathered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from ..engine.tty import TtySession
from .missing import FactMissing, Met, VariantFacts
from .schema import (
    ChildResult,
    CommandFact,
    Cuda,
    Devel,
    DevelBuild,
    ImageInspect,
    Imports,
    InstalledPackages,
    PackageFact,
    PipCheck,
    Probe,
    RunCheck,
    RunResult,
    SecretScan,
    Training,
)
from .secrets import parse_env
from .version import PaddleVersion, parse_kernel, parse_version, repository

__all__ = ["ImageFacts", "PaddleVersion", "parse_kernel", "parse_version", "repository"]


@dataclass
class ImageFacts(VariantFacts):
    """Everything gathered about one variant's image, and why what is missing is missing."""

    error: str | None = None  # the image itself: absent, not pullable, the engine gone
    error_met: Met = field(default_factory=Met)  # whose ``error`` is and its cause, as typed where it arose
    inspect_raw: ImageInspect | None = None  # `docker image inspect` (the host side)
    history_raw: list[str] | None = None  # `docker history`: the CreatedBy line of each layer
    probe_raw: Probe | None = None
    probe_error: str | None = None
    probe_met: Met = field(default_factory=Met)
    tty_session: TtySession | None = None
    tty_error: str | None = None
    tty_met: Met = field(default_factory=Met)
    container_id: str | None = None  # the keep-alive container (testinfra's ``host`` runs there)
    memory: str | None = None  # its --memory limit; None: the host's memory is its limit
    start_seconds: float | None = None  # create and start the keep-alive container
    pulled: bool = False  # --pull: the engine pulled the tag before the image was inspected
    execs: int = 0
    seconds: float = 0.0

    def unavailable(self) -> FactMissing | None:
        """Why the probe's facts are missing (the image, the container, the probe), or None."""
        if self.error:
            return self.missing(self.error, self.error_met)
        if self.probe_raw is None:
            met = Met(self.probe_met.fault, self.probe_met.cause or self.probe_error)
            return self.missing(f"no facts from the image: {self.probe_error}", met)
        return None

    @property
    def probe(self) -> Probe:
        why = self.unavailable()
        if why is not None or self.probe_raw is None:
            raise why or self.missing("no facts from the image")
        return self.probe_raw

    @property
    def tty(self) -> TtySession:
        if self.error:
            raise self.missing(self.error, self.error_met)
        if self.tty_session is None:
            why = f"`docker run -it {self.variant.image}` failed: {self.tty_error}"
            raise self.missing(why, Met(self.tty_met.fault, self.tty_met.cause or self.tty_error))
        return self.tty_session

    # what the checks read -------------------------------------------------------

    @property
    def inspect(self) -> ImageInspect:
        """``docker image inspect`` of the variant's image."""
        if self.error:
            raise self.missing(self.error, self.error_met)
        if self.inspect_raw is None:
            raise self.missing(f"image {self.variant.image} was not inspected")
        return self.inspect_raw

    @property
    def image_id(self) -> str | None:
        """The image's ID: the digest of its config (``sha256:...``), which every engine computes alike
        (Docker and Podman agree on it; each computes a repository digest of its own)."""
        value = (self.inspect_raw or {}).get("Id")
        return str(value) if value else None

    @property
    def repo_digest(self) -> str | None:
        """The digest (``sha256:...``) the engine holds for the image's repository: with ``--pull``,
        what the tag resolved to in the registry; None when the engine has none (a local build)."""
        name = repository(self.variant.image)
        for ref in (self.inspect_raw or {}).get("RepoDigests") or []:
            repo, _, digest = ref.partition("@")
            if repo == name:
                return digest
        return None

    @property
    def image_env(self) -> dict[str, str]:
        """The image's ``ENV`` (``Config.Env``): what ``docker exec`` sees before the contract's env."""
        return parse_env((self.inspect.get("Config") or {}).get("Env"))

    @property
    def history(self) -> list[str]:
        """``docker history`` of the image: each layer's ``CreatedBy`` line, newest first."""
        if self.error:
            raise self.missing(self.error, self.error_met)
        if self.history_raw is None:
            raise self.missing(f"`docker history {self.variant.image}` was not read")
        return self.history_raw

    @property
    def packages(self) -> InstalledPackages:
        """The image's Python (``pip list``) and Debian (``dpkg-query -W``) packages."""
        found = cast(InstalledPackages | None, self._step(self.probe.get("packages")))
        if found is None:
            raise self.missing("the installed packages were not listed")
        return found

    @property
    def secrets(self) -> SecretScan:
        """The probe's walk for credentials left in files."""
        scan = cast(SecretScan | None, self._step(self.probe.get("secrets")))
        if scan is None:
            raise self.missing("the image's files were not searched for secrets")
        return scan

    @property
    def pip_check(self) -> PipCheck:
        """``python -m pip check`` in the image's Python, or why it was not run."""
        found = cast(PipCheck | None, self._step(self.probe.get("pip_check")))
        if found is None:
            raise self.missing("`pip check` was not run by the probe")
        return found

    @property
    def kernel(self) -> str:
        return self.probe["kernel"]

    def command(self, name: str) -> CommandFact:
        commands = self.probe["commands"]
        if name not in commands:
            raise self.missing(f"command {name} was not probed")
        return commands[name]

    def launcher_run(self, sub: str) -> RunResult:
        runs = cast(dict[str, RunResult], self._step(self.probe["launcher_runs"]))
        if sub not in runs:
            raise self.missing(f"`{self.variant.runtime.launcher} {sub}` was not run")
        return runs[sub]

    @property
    def version_run(self) -> RunResult:
        return self.launcher_run("version")

    @property
    def paddle_version(self) -> PaddleVersion:
        return parse_version(self.version_run["stdout"] or "", self.variant.runtime.version_pattern)

    @property
    def imports(self) -> Imports:
        probe = self.probe
        return cast(Imports, self._killable(probe["imports"], "the import probe"))

    def killed_note(self) -> str:
        """Why a probe's child died of SIGKILL: out of memory (at whose limit), or killed from outside."""
        note = self.oom_note()
        if not self.probe["oom_kills"] and self.memory is None:
            note += " (killed on the host)"
        return note

    def _killable(self, value: object, what: str) -> object:
        """A child's answer; its SIGKILL is the host's without --memory (the host's memory, or a kill)."""
        return self._child(value, what, killed=self.killed_note(), killed_fault="host" if self.memory is None else None)

    def oom_note(self) -> str:
        kills = self.probe["oom_kills"]
        if kills:
            return f"OOM killed: the kernel killed {kills} process(es) in the container {self.memory_limit_note()}"
        return "no OOM kill recorded in the container"

    def memory_limit_note(self) -> str:
        """Whose memory ran out: the container's --memory limit (the image's fault) or the host's."""
        if self.memory:
            return f"out of memory at its --memory limit {self.memory}"
        return "out of memory at the host's limit (the container has no memory limit)"

    def package(self, name: str) -> PackageFact:
        packages = self.imports["packages"]
        if name not in packages:
            raise self.missing(f"package {name} was not probed")
        return packages[name]

    @property
    def devel(self) -> Devel:
        devel = self.probe["devel"]
        if devel is None:
            raise self.missing("the devel facts were not probed (not a devel variant)")
        return devel

    def devel_build(self, step: str) -> DevelBuild:
        """One devel build's result (``inimage/devel.py``): missing when the probe could not run it."""
        build = cast(DevelBuild | None, self._step((self.probe.get("devel_builds") or {}).get(step)))
        if build is None:
            raise self.missing(f"the devel build {step} was not run (the contract's builds lack it)")
        return build

    @property
    def cuda(self) -> Cuda:
        """The image's CUDA libraries as its loader finds them (gpu variants)."""
        return cast(Cuda, self._child(self.probe["cuda"], "the CUDA probe (the contract's cuda_libraries)"))

    @property
    def python_version(self) -> str:
        """The image's Python (``X.Y.Z``), as the probe ran it."""
        found = self.probe.get("python")
        if not found:
            raise self.missing(f"the version of {self.variant.python} was not probed")
        return found["version"]

    @property
    def run_check(self) -> tuple[ChildResult, RunCheck]:
        """paddle's install check: its run (what it printed) and which check ran, what it raised."""
        run = cast(ChildResult | None, self._step(self.probe.get("run_check")))
        if run is None:
            raise self.missing("paddle's run_check was not run (the manifest says run_check = false)")
        return run, cast(RunCheck, self._killable(run, "paddle's run_check"))

    @property
    def demo_train(self) -> tuple[ChildResult, Training | None]:
        """The demo's run and, when it printed them, its losses."""
        run = cast(ChildResult | None, self._step(self.probe["demo_train"]))
        if run is None:
            raise self.missing("no demo training was run (the contract names none)")
        return run, cast(Training | None, run.get("data"))
