"""The connection to a Docker engine, and how its errors are worded for the report.

Owns: :func:`connect` (a client whose daemon answered), the suite's engine errors, and
the one wording of a lost daemon and of a missing image that every part of the suite uses.
"""

from __future__ import annotations

import os

import docker
import docker.errors

UNREACHABLE = "Docker daemon unreachable at "  # how every lost daemon is worded


class EngineError(RuntimeError):
    """A problem with the engine or a resource, worded for the report."""


class DaemonUnreachable(EngineError):
    pass


def daemon_url() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: float = 10.0) -> docker.DockerClient:
    """A client whose daemon answered a ping, or :class:`DaemonUnreachable`."""
    url = daemon_url()
    client = None
    try:
        client = docker.DockerClient(base_url=url, version="auto", timeout=int(timeout))
        client.ping()
    except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
        if client is not None:
            client.close()
        raise DaemonUnreachable(f"{UNREACHABLE}{url}: {_reason(exc)}") from None
    return client


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    for hint in ("No such file or directory", "Connection refused", "Permission denied", "timed out"):
        if hint in text:
            return hint
    return text.splitlines()[0][:200]


def daemon_error(exc: BaseException) -> str:
    """The daemon's own message in a docker-py error, without the HTTP noise."""
    explanation = getattr(exc, "explanation", None)
    if explanation:
        return str(explanation.decode() if isinstance(explanation, bytes) else explanation)
    return str(exc)


def unreachable(exc: BaseException) -> str:
    """What a lost connection to the daemon is, in one line."""
    return f"{UNREACHABLE}{daemon_url()}: {_reason(exc)}"


def image_missing(variant: str, image: str) -> EngineError:
    return EngineError(f"{variant}: image {image} is not present (the suite pulls only with --pull)")


def require_image(client: docker.DockerClient, image: str, *, variant: str) -> str:
    """The image's ID, or the one error every part of the suite gives for a missing image."""
    try:
        return str(client.images.get(image).id or image)
    except docker.errors.ImageNotFound:
        raise image_missing(variant, image) from None
