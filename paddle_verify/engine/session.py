"""A session on one engine: labels, containers that never leak, the threads that gather facts.

Everything the suite creates carries :data:`LABEL_SUITE` and the session's
:data:`LABEL_SESSION`, is registered for removal right after it is created, and
is removed with its volumes when the session ends. A session started later
sweeps what dead sessions left behind (their owner process is gone).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import signal
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import docker
import docker.errors
import requests
from docker.models.containers import Container

from . import libpod
from .client import EngineError, daemon_error, daemon_fault, daemon_url, image_missing, translated
from .labels import LABEL_OWNER, LABEL_ROLE, LABEL_RUN, LABEL_SESSION, LABEL_SUITE, LABEL_VARIANT, SUITE, owner_token
from .sweep import sweep

T = TypeVar("T")


@dataclass
class Session:
    """One run of the suite against one engine: its labels, its containers and its worker threads.

    The one owner of both: every container the suite makes is created here (labelled, its
    removal registered at once), every gathering thread runs in :meth:`submit`'s pool, and
    :meth:`close` removes the containers (an exec waiting on one then ends) and then joins
    the threads. Only the fixture that opened the session calls :meth:`close`.
    """

    client: docker.DockerClient
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    owner: str = field(default_factory=owner_token)
    run_label: str | None = None  # --run-label: e.g. the CI job, to find a run's resources
    url: str = field(default_factory=daemon_url)  # the engine's address, as errors name it
    closed: bool = False
    _containers: dict[str, Container] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _pool: concurrent.futures.ThreadPoolExecutor = field(
        default_factory=lambda: concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="gather")
    )

    def labels(self, variant: str | None = None, purpose: str = "check") -> dict[str, str]:
        labels = {
            LABEL_SUITE: SUITE,
            LABEL_SESSION: self.id,
            LABEL_OWNER: self.owner,
            LABEL_ROLE: purpose,
        }
        if variant:
            labels[LABEL_VARIANT] = variant
        if self.run_label:
            labels[LABEL_RUN] = self.run_label
        return labels

    def name(self, variant: str, purpose: str) -> str:
        return f"paddle-verify-{self.id}-{variant}-{purpose}-{uuid.uuid4().hex[:4]}"

    def submit(self, fn: Callable[..., T], *args: Any) -> concurrent.futures.Future[T]:
        """Run ``fn(*args)`` in the session's pool (joined by :meth:`close`)."""
        return self._pool.submit(fn, *args)

    # containers -------------------------------------------------------------

    def create_container(
        self, image: str, *, variant: str, purpose: str, name: str | None = None, **kwargs: Any
    ) -> Container:
        """Create (not start) a labelled container and register its removal at once."""
        labels = {**kwargs.pop("labels", {}), **self.labels(variant, purpose)}
        cdi_devices: tuple[str, ...] = tuple(kwargs.pop("cdi_devices", ()))
        try:
            if cdi_devices:  # CDI names: only Podman's own API carries them (engine/libpod.py)
                ident = libpod.create(
                    self.client, image, cdi_devices, name=name or self.name(variant, purpose), labels=labels, **kwargs
                )
                container = self.client.containers.get(ident)
            else:
                container = self.client.containers.create(
                    image, name=name or self.name(variant, purpose), labels=labels, **kwargs
                )
        except docker.errors.ImageNotFound:
            raise image_missing(variant, image) from None
        except docker.errors.APIError as exc:
            why = daemon_error(exc)
            if cdi_devices and exc.status_code == 404 and "image" not in why.lower():
                why = (
                    f"CDI devices ({', '.join(cdi_devices)}) need Podman's libpod API, which this engine does not serve"
                )
            raise EngineError(
                f"{variant}: cannot create a container of {image}: {why}", fault=daemon_fault(exc)
            ) from None
        except (requests.exceptions.RequestException, OSError) as exc:
            raise translated(exc, self.url, variant=variant) from None
        with self._lock:
            late = self.closed
            if not late:
                self._containers[cid(container)] = container
        if late:  # the session ended (Ctrl-C, SIGTERM) while this create was on its way
            remove_container(container)
            raise EngineError(f"{variant}: the session was closed")
        return container

    def start_container(self, container: Container, *, variant: str) -> None:
        """Start a created container; on failure remove it and name the daemon's reason."""
        try:
            container.start()
        except docker.errors.APIError as exc:
            self.remove(cid(container))
            raise EngineError(
                f"{variant}: container did not start: {daemon_error(exc)}", fault=daemon_fault(exc)
            ) from None
        except (requests.exceptions.RequestException, OSError) as exc:
            self.remove(cid(container))
            raise translated(exc, self.url, variant=variant) from None

    def forget(self, ident: str) -> None:
        """The container was removed by its user (the page's ``docker rm``): not ours to remove."""
        with self._lock:
            self._containers.pop(ident, None)

    def remove(self, ident: str) -> None:
        with self._lock:
            container = self._containers.pop(ident, None)
        if container is not None:
            with contextlib.suppress(Exception):
                remove_container(container)

    def close(self) -> int:
        """Remove everything this session made, newest first, then join its threads; returns how many.

        Idempotent. Ctrl-C and SIGTERM wait while it runs (in the main thread),
        so that a second signal cannot cut the cleanup short.
        """
        with _signals_held():
            with self._lock:
                self.closed = True
                todo, self._containers = list(reversed(self._containers.values())), {}
            for container in todo:
                with contextlib.suppress(Exception):
                    remove_container(container)
            # Belt and braces: anything carrying our label that escaped registration.
            try:
                removed = len(todo) + sweep(self.client, session=self.id)
            except (requests.exceptions.RequestException, OSError, docker.errors.DockerException):
                removed = len(todo)  # the engine is gone: nothing more to remove now
            self._pool.shutdown(wait=True, cancel_futures=True)
            return removed


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def cid(container: Container) -> str:
    """A container's id (docker-py types it as optional; a created one has one)."""
    assert container.id, "container without an id"
    return str(container.id)


def remove_container(container: Container) -> None:
    with contextlib.suppress(docker.errors.NotFound):
        container.remove(force=True, v=True)


def container_state(container: Container) -> dict[str, Any]:
    """Status, exit code, OOM flag and last log lines of a container ("removed" when it is gone)."""
    try:
        container.reload()
    except docker.errors.NotFound:
        return {"status": "removed", "exit_code": None, "oom_killed": None, "error": None, "logs": ""}
    except docker.errors.APIError:
        pass
    state = container.attrs.get("State", {})
    logs = ""
    with contextlib.suppress(docker.errors.APIError):
        logs = container.logs(tail=10).decode("utf-8", "replace")
    return {
        "status": state.get("Status"),
        "exit_code": state.get("ExitCode"),
        "oom_killed": state.get("OOMKilled"),
        "error": state.get("Error"),
        "logs": logs,
    }
