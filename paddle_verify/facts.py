"""Facts about one variant's image, gathered once per session in few execs.

For each selected variant, concurrently:

* the image's metadata (one API call);
* one keep-alive container and **one** exec of the probe script in it, which
  returns every fact the checks need as JSON (see :mod:`probe_script`);
* one interactive ``docker run -it IMAGE`` session driven through a TTY.

Checks then assert on these facts in Python; a missing fact raises
:class:`FactMissing` (an ``AssertionError``: the check fails, it is not skipped)
naming the variant and the reason.
"""

from __future__ import annotations

import concurrent.futures
import json
import re
import shlex
import threading
import time
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import docker
import docker.errors
import requests
from docker.models.containers import Container

from .engine import (
    EngineError,
    Session,
    cid,
    container_state,
    daemon_error,
    exec_bounded,
    image_missing,
    unreachable,
)
from .manifest import Variant
from .tty import TtySession, drive

MARKER = "PADDLE_VERIFY_FACTS="
# What a lost connection to the daemon raises through docker-py.
ENGINE_GONE = (requests.exceptions.RequestException, ConnectionError)
KEEP_ALIVE = ["sleep", "infinity"]


class FactMissing(AssertionError):
    """A fact a check needs could not be gathered; the message says why."""


def in_image_script(name: str) -> str:
    """A script to run in the image with ``python -c``: the shared helpers, then the script."""
    folder = resources.files("paddle_verify")
    return "\n\n".join(folder.joinpath(n).read_text(encoding="utf-8") for n in ("probe_common.py", name))


def probe_source() -> str:
    return in_image_script("probe_script.py")


def demo_source(name: str) -> str:
    return resources.files("paddle_verify").joinpath("demos", f"{name}.py").read_text(encoding="utf-8")


@dataclass(frozen=True)
class PaddleVersion:
    """``paddle version`` output, parsed with the contract's pattern."""

    version: str | None
    build: dict[str, str]


def parse_version(output: str, pattern: str) -> PaddleVersion:
    m = re.search(pattern, output, re.M)
    build = dict(re.findall(r"^\s*(with_\w+)\s*:\s*(\S+)\s*$", output, re.M))
    return PaddleVersion(version=m.group("version") if m else None, build=build)


def parse_kernel(release: str) -> tuple[int, int]:
    """``6.18.44-fc-v657`` -> ``(6, 18)``; ``(0, 0)`` when unreadable."""
    m = re.match(r"^(\d+)\.(\d+)", release or "")
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def probe_config(variant: Variant, timeout: float) -> dict[str, Any]:
    rt, devel, demo = variant.runtime, variant.devel, variant.demo
    return {
        "launcher": rt.launcher,
        "launcher_subcommands": list(rt.launcher_subcommands),
        "commands": list(dict.fromkeys([*rt.commands, *(demo.commands if demo else ())])),
        "packages": list(dict.fromkeys([*rt.packages, *(demo.packages if demo else ())])),
        "py_paddle_init": rt.py_paddle_init,
        "computation": rt.computation,
        "env": dict(rt.env),
        "timeout": timeout,
        "devel": None
        if devel is None
        else {
            "toolchain": [[name, list(argv)] for name, argv in devel.toolchain.items()],
            "source_dirs": list(devel.source_dirs),
            "source_markers": list(devel.source_markers),
        },
        "demo_train": demo_source(demo.train) if demo and demo.train else None,
    }


def probe_deadline(variant: Variant, timeout: float) -> float:
    """An upper bound for the whole probe: its sequential steps, each bounded."""
    steps = len(variant.runtime.launcher_subcommands) + 2
    if variant.devel:
        steps += len(variant.devel.toolchain)
    return timeout * steps + 10


@dataclass
class VariantFacts:
    """Everything gathered about one variant, and what could not be."""

    variant: Variant
    image_id: str | None = None
    image_config: dict[str, Any] = field(default_factory=dict)
    image_error: str | None = None
    probe_raw: dict[str, Any] | None = None
    probe_error: str | None = None
    tty_session: TtySession | None = None
    tty_error: str | None = None
    container_id: str | None = None
    execs: int = 0
    seconds: float = 0.0

    @property
    def name(self) -> str:
        return self.variant.name

    def _need_image(self) -> None:
        if self.image_error:
            raise FactMissing(self.image_error)

    @property
    def probe(self) -> dict[str, Any]:
        self._need_image()
        if self.probe_raw is None:
            raise FactMissing(f"{self.name}: no facts from the image: {self.probe_error}")
        return self.probe_raw

    @property
    def tty(self) -> TtySession:
        self._need_image()
        if self.tty_session is None:
            raise FactMissing(f"{self.name}: `docker run -it {self.variant.image}` failed: {self.tty_error}")
        return self.tty_session

    # derived facts ------------------------------------------------------------

    def step(self, key: str) -> Any:
        """A probe step's result; a step the probe could not finish is a missing fact."""
        value = self.probe.get(key)
        if isinstance(value, dict) and set(value) == {"error"}:
            raise FactMissing(f"{self.name}: {value['error']}")
        return value

    def launcher_run(self, sub: str) -> dict[str, Any]:
        runs = self.step("launcher_runs") or {}
        if sub not in runs:
            raise FactMissing(f"{self.name}: `{self.variant.runtime.launcher} {sub}` was not run")
        return dict(runs[sub])

    @property
    def version_run(self) -> dict[str, Any]:
        return self.launcher_run("version")

    @property
    def paddle_version(self) -> PaddleVersion:
        run = self.version_run
        return parse_version(run.get("stdout") or "", self.variant.runtime.version_pattern)

    @property
    def imports(self) -> dict[str, Any]:
        child = self.step("imports")
        data = child.get("data") if child else None
        if not data:
            why = child.get("error") or (child.get("stderr") or "").strip()[-500:] or f"exit code {child.get('rc')}"
            if child.get("rc") == -9:
                why = f"killed by SIGKILL; {self.oom_note()}"
            raise FactMissing(f"{self.name}: the import probe in {self.variant.python} gave no answer: {why}")
        return dict(data)

    def oom_note(self) -> str:
        kills = (self.probe_raw or {}).get("oom_kills")
        if kills:
            return f"OOM killed: the kernel killed {kills} process(es) in the container out of memory"
        return "no OOM kill recorded in the container"

    def package(self, name: str) -> dict[str, Any]:
        packages = self.imports["packages"]
        if name not in packages:
            raise FactMissing(f"{self.name}: package {name} was not probed")
        return dict(packages[name])


def _python_missing(result_text: str) -> bool:
    return "executable file not found" in result_text or "no such file or directory" in result_text.lower()


class Fleet:
    """Gathers the facts of every selected variant concurrently, once per session."""

    def __init__(
        self,
        session: Session,
        variants: list[Variant],
        *,
        timeout: float,
        pull: bool = False,
        memory: str | None = None,
    ) -> None:
        self.session = session
        self.variants = {v.name: v for v in variants}
        self.timeout = timeout
        self.pull = pull
        self.memory = memory
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(2, 2 * len(variants)))
        self._futures: dict[str, concurrent.futures.Future[VariantFacts]] = {}
        self.containers: dict[str, Container] = {}

    def start(self, names: list[str] | None = None) -> None:
        """Start gathering the named variants (all when None) in the background."""
        with self._lock:
            for name in names or list(self.variants):
                if name not in self._futures:
                    self._futures[name] = self._pool.submit(self._gather, self.variants[name])

    def facts(self, name: str) -> VariantFacts:
        self.start([name])
        return self._futures[name].result()

    def close(self) -> None:
        """Stop: remove the session's containers first (a running exec then ends), then wait."""
        self.session.close()
        self._pool.shutdown(wait=True, cancel_futures=True)

    # gathering ----------------------------------------------------------------

    def _gather(self, variant: Variant) -> VariantFacts:
        start = time.monotonic()
        facts = VariantFacts(variant=variant)
        try:
            self._image(facts)
        except EngineError as exc:
            facts.image_error = str(exc)
        except ENGINE_GONE as exc:
            facts.image_error = f"{variant.name}: {unreachable(exc)}"
        if facts.image_error is None:
            tty_future = self._pool.submit(self._tty, variant)
            try:
                self._probe(facts)
            except EngineError as exc:
                facts.probe_error = str(exc)
            except docker.errors.APIError as exc:
                facts.probe_error = f"the engine refused: {daemon_error(exc)}"
            except ENGINE_GONE as exc:
                facts.probe_error = unreachable(exc)
            try:
                facts.tty_session = tty_future.result()
            except EngineError as exc:
                facts.tty_error = str(exc)
            except docker.errors.APIError as exc:
                facts.tty_error = f"the engine refused: {daemon_error(exc)}"
            except ENGINE_GONE as exc:
                facts.tty_error = unreachable(exc)
        facts.seconds = time.monotonic() - start
        return facts

    def _image(self, facts: VariantFacts) -> None:
        ref = facts.variant.image
        client = self.session.client
        try:
            image = client.images.get(ref)
        except docker.errors.ImageNotFound:
            if not self.pull:
                raise image_missing(facts.name, ref) from None
            try:
                image = client.images.pull(ref)
            except docker.errors.APIError as exc:
                raise EngineError(f"{facts.name}: image {ref} could not be pulled: {daemon_error(exc)}") from None
        except docker.errors.APIError as exc:
            raise EngineError(f"{facts.name}: image {ref}: {daemon_error(exc)}") from None
        facts.image_id = image.id
        facts.image_config = dict(image.attrs.get("Config") or {})

    def _probe(self, facts: VariantFacts) -> None:
        variant = facts.variant
        container = self.session.create_container(
            variant.image,
            variant=variant.name,
            purpose="check",
            entrypoint=KEEP_ALIVE[:1],
            command=KEEP_ALIVE[1:],
            network_mode="none",
            environment=dict(variant.runtime.env),
            **({"mem_limit": self.memory} if self.memory else {}),
        )
        self.session.start_container(container, variant=variant.name)
        self.containers[variant.name] = container
        facts.container_id = cid(container)
        argv = [variant.python, "-c", probe_source(), json.dumps(probe_config(variant, self.timeout))]
        try:
            result = exec_bounded(
                self.session.client,
                cid(container),
                argv,
                timeout=probe_deadline(variant, self.timeout),
                env=dict(variant.runtime.env),
            )
        except docker.errors.APIError as exc:
            raise EngineError(f"{variant.name}: exec in the container failed: {daemon_error(exc)}") from None
        facts.execs += 1
        for line in result.stdout.splitlines():
            if line.startswith(MARKER):
                facts.probe_raw = json.loads(line[len(MARKER) :])
                return
        state = container_state(container)
        deadline = time.monotonic() + 2
        while result.rc == 137 and state["status"] == "running" and time.monotonic() < deadline:
            # A killed container ends its execs a moment before its own status changes.
            time.sleep(0.1)
            state = container_state(container)
        if result.timed_out:
            why = f"the probe did not finish within {result.seconds:.0f}s"
        elif state["status"] != "running":
            why = (
                f"the container stopped (exit code {state['exit_code']}, OOM killed: {state['oom_killed']}); "
                f"last log lines: {state['logs'].strip()[-500:] or '(none)'}"
            )
        elif result.rc == 137:
            why = (
                f"the probe was killed (SIGKILL, exit code 137) while the container kept running; "
                f"{self._oom_kills(container)}"
            )
        elif _python_missing(result.stdout + result.stderr):
            why = f"{variant.python} is not in the image (exit code {result.rc})"
        else:
            why = f"exit code {result.rc}: {(result.stderr or result.stdout).strip()[-500:]}"
        facts.probe_error = why

    def _oom_kills(self, container: Container) -> str:
        """What the container's memory cgroup says about OOM kills (cgroup v1 or v2), in one exec."""
        script = (
            "cat /sys/fs/cgroup/memory.events 2>/dev/null || "
            "cat /sys/fs/cgroup/memory/memory.oom_control 2>/dev/null || true"
        )
        try:
            got = exec_bounded(self.session.client, cid(container), ["sh", "-c", script], timeout=10)
        except docker.errors.APIError as exc:
            return f"OOM kills unknown: {daemon_error(exc)}"
        kills = re.search(r"oom_kill (\d+)", got.stdout)
        limit = f"memory limit {self.memory}" if self.memory else "no memory limit"
        if kills and int(kills.group(1)) > 0:
            return f"OOM killed: the kernel killed {kills.group(1)} process(es) out of memory ({limit})"
        return f"OOM killed: no OOM kill recorded ({limit})"

    def _tty(self, variant: Variant) -> TtySession:
        # Exactly `docker run -it IMAGE`: no env, no command; the variables the
        # contract needs (PADDLE_NO_STAT) are typed on the line, as a person would.
        assignments = [f"{k}={shlex.quote(v)}" for k, v in variant.runtime.env.items()]
        line = " ".join([*assignments, shlex.quote(variant.runtime.launcher), "version"])
        return drive(self.session, variant.image, variant=variant.name, line=line, timeout=self.timeout)
