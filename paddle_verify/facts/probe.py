"""The probe runner: one variant's image facts, gathered once per session in few execs.

For each variant: the image (one API call; with ``--pull``, pulled first), one
keep-alive container and **one** exec of ``inimage/probe.py`` in it, which returns
every fact the image checks need as JSON, and one interactive ``docker run -it IMAGE``
session driven through a TTY, side by side.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

import docker.errors
from docker.models.containers import Container
from docker.models.images import Image

from .. import inimage
from ..engine import EngineError, Session, cid, container_state, daemon_error, daemon_fault, exec_bounded, translated
from ..engine.client import ENGINE_GONE as ENGINE_GONE_TYPES
from ..engine.client import image_missing
from ..engine.tty import TtySession, drive
from ..manifest import Variant
from .candidates import judge_candidates
from .image import ImageFacts
from .missing import Fault, Met, met
from .probe_config import probe_config, probe_deadline
from .schema import ImageInspect, Probe

MARKER = "PADDLE_VERIFY_FACTS="
__all__ = ["MARKER", "ImageSettings", "gather", "keep_alive", "probe_config", "probe_image"]
# What a lost connection to the daemon raises through docker-py (and its SSH transport): the engine's.
ENGINE_GONE = ENGINE_GONE_TYPES
KEEP_ALIVE = ["sleep", "infinity"]


@dataclass(frozen=True)
class ImageSettings:
    timeout: float  # --exec-timeout: each command in the image
    pull: bool = False
    memory: str | None = None
    # Discovery (``paddle-verify init``): the CUDA runtimes to try when the variant names none,
    # and whether to walk the image for secrets (the gate always does; init keeps no secret).
    cuda_runtimes: tuple[str, ...] = ()
    secrets: bool = True


def gather(session: Session, variant: Variant, settings: ImageSettings) -> ImageFacts:
    """The image, the probe and the TTY session of ``variant``; never raises for the engine's errors."""
    start = time.monotonic()
    facts = ImageFacts(variant=variant, memory=settings.memory, pulled=settings.pull)
    try:
        image = image_of(session, variant, settings.pull)
        facts.inspect_raw = cast(ImageInspect, image.attrs)
        facts.history_raw = [str(layer.get("CreatedBy", "")) for layer in image.history()]
    except docker.errors.APIError as exc:
        facts.error, facts.error_met = f"{variant.name}: image {variant.image}: {daemon_error(exc)}", met(exc)
    except EngineError as exc:
        facts.error, facts.error_met = str(exc), met(exc)
    except ENGINE_GONE as exc:
        lost = translated(exc, session.url, variant=variant.name)
        facts.error, facts.error_met = str(lost), met(lost)
    if facts.error is None:
        tty_future = session.submit(_tty, session, variant, settings.timeout)
        try:
            probe_image(session, facts, settings)
        except (EngineError, docker.errors.APIError, *ENGINE_GONE) as exc:
            facts.probe_error, facts.probe_met = _worded(exc, session.url)
        try:
            facts.tty_session = tty_future.result()
        except (EngineError, docker.errors.APIError, *ENGINE_GONE) as exc:
            facts.tty_error, facts.tty_met = _worded(exc, session.url)
    facts.seconds = time.monotonic() - start
    return facts


def _worded(exc: BaseException, url: str) -> tuple[str, Met]:
    """The engine's error in the report's words, and whose it is (typed where it arose)."""
    if isinstance(exc, docker.errors.APIError):
        return f"the engine refused: {daemon_error(exc)}", met(exc)
    if isinstance(exc, EngineError):
        return str(exc), met(exc)
    lost = translated(exc, url)
    return str(lost), met(lost)


def image_of(session: Session, variant: Variant, pull: bool) -> Image:
    """The variant's image (its ``docker image inspect`` is ``attrs``). With ``--pull`` the engine
    pulls the tag every time, present or not: what it runs is what the registry gives it now."""
    ref, client = variant.image, session.client
    if pull:
        try:
            client.images.pull(ref)
        except docker.errors.APIError as exc:
            why = f"{variant.name}: image {ref} could not be pulled: {daemon_error(exc)}"
            raise EngineError(why, fault=daemon_fault(exc)) from None
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise image_missing(variant.name, ref) from None
    except docker.errors.APIError as exc:
        raise EngineError(f"{variant.name}: image {ref}: {daemon_error(exc)}", fault=daemon_fault(exc)) from None


class PythonMissing(EngineError):
    """The variant's Python is not in the image: the probe could not start."""


def probe_image(session: Session, facts: ImageFacts, settings: ImageSettings) -> None:
    """The one exec of ``inimage/probe.py`` in a keep-alive container of ``facts.variant``: its JSON
    into ``facts.probe_raw``, or an :class:`EngineError` (:class:`PythonMissing`) saying why not."""
    variant = facts.variant
    started = time.monotonic()
    container = keep_alive(session, variant, "check", **({"mem_limit": settings.memory} if settings.memory else {}))
    facts.start_seconds = round(time.monotonic() - started, 3)
    facts.container_id = cid(container)
    workdir = ((facts.inspect_raw or {}).get("Config") or {}).get("WorkingDir") or ""
    config = probe_config(
        variant, settings.timeout, workdir=workdir, cuda_runtimes=settings.cuda_runtimes, secrets=settings.secrets
    )
    argv = inimage.probe_argv(variant.python, "probe.py", config)
    try:
        result = exec_bounded(
            session.client,
            cid(container),
            argv,
            timeout=probe_deadline(variant, settings.timeout),
            env=dict(variant.runtime.env),
        )
    except docker.errors.APIError as exc:
        why = f"{variant.name}: exec in the container failed: {daemon_error(exc)}"
        raise EngineError(why, fault=daemon_fault(exc)) from None
    facts.execs += 1
    raw = inimage.read_marked(result.stdout, MARKER)
    if raw is not None:
        facts.probe_raw = cast(Probe, raw)
        judge_candidates(container, facts.probe_raw)  # the secret walk's candidate files, by value
        return
    state = container_state(container)
    deadline = time.monotonic() + 2
    while result.rc == 137 and state["status"] == "running" and time.monotonic() < deadline:
        # A killed container ends its execs a moment before its own status changes: poll, bounded.
        time.sleep(0.1)
        state = container_state(container)
    fault: Fault | None = None  # the image's, but where the host ran out of memory or killed it
    if result.timed_out:
        why = f"the probe did not finish within {result.seconds:.0f}s"
    elif state["status"] != "running":
        # The container only sleeps: it stops when the kernel (out of memory) or someone kills it.
        whose = facts.memory_limit_note() if state["oom_killed"] else "killed on the host"
        fault = "host" if not state["oom_killed"] or settings.memory is None else None
        why = (
            f"the container stopped (exit code {state['exit_code']}, OOM killed: {state['oom_killed']}), {whose}; "
            f"last log lines: {state['logs'].strip()[-500:] or '(none)'}"
        )
    elif result.rc == 137:
        why = "the probe was killed (SIGKILL, exit code 137) while the container kept running"
        why += (
            f" (it runs under --memory {settings.memory})"
            if settings.memory
            else " (killed on the host: no memory limit)"
        )
        fault = None if settings.memory else "host"
    elif _python_missing(result.stdout + result.stderr):
        raise PythonMissing(f"{variant.python} is not in the image (exit code {result.rc})")
    else:
        why = f"exit code {result.rc}: {(result.stderr or result.stdout).strip()[-500:]}"
    raise EngineError(why, fault=fault)


def keep_alive(session: Session, variant: Variant, purpose: str, **kwargs: Any) -> Container:
    """A started container of ``variant`` that only sleeps (no network, the contract's env), to
    exec probes in; ``kwargs`` add to ``docker create`` (a memory limit, a GPU mapping)."""
    container = session.create_container(
        variant.image,
        variant=variant.name,
        purpose=purpose,
        entrypoint=KEEP_ALIVE[:1],
        command=KEEP_ALIVE[1:],
        network_mode="none",
        environment=dict(variant.runtime.env),
        **kwargs,
    )
    session.start_container(container, variant=variant.name)
    return container


def _python_missing(result_text: str) -> bool:
    return "executable file not found" in result_text or "no such file or directory" in result_text.lower()


def _tty(session: Session, variant: Variant, timeout: float) -> TtySession:
    # Exactly `docker run -it IMAGE`: no env, no command; the variables the
    # contract needs (PADDLE_NO_STAT) are typed on the line, as a person would.
    line = variant.runtime.shell_line("version")
    return drive(session, variant.image, variant=variant.name, line=line, timeout=timeout)
