"""The connection to a Docker engine, and how its errors are worded for the report.

Owns: :func:`connect` (a client whose daemon answered), the suite's engine errors, and
the one wording of a lost daemon and of a missing image that every part of the suite uses.
"""

from __future__ import annotations

import gc
import os
import socket
import warnings
from dataclasses import dataclass

import docker
import docker.errors
import docker.tls
import paramiko
import requests
import urllib3.exceptions
from docker.transport import unixconn

from ..exits import Fault

UNREACHABLE = "Docker daemon unreachable at "  # how every lost daemon is worded


class EngineError(RuntimeError):
    """A problem with the engine or a resource, worded for the report; ``fault``: whose it is, set
    by the raiser (``None``: not the host's; a check that meets it fails as the image's)."""

    fault: Fault | None = None

    def __init__(self, message: str = "", *, fault: Fault | None = None) -> None:
        super().__init__(message)
        if fault is not None:
            self.fault = fault


class DaemonUnreachable(EngineError):
    """The daemon did not answer (at the start, or lost mid-run): the host's fault.

    Typed by the raiser: ``url`` (the engine's address), ``reason`` (why, in a few words) and
    ``line`` (the lost daemon in one line, naming no variant: one cause for the run, whichever
    variant met it); the message is ``line``, after ``variant: `` when a variant is named."""

    fault: Fault | None = "host"

    def __init__(self, message: str = "", *, url: str = "", reason: str = "", variant: str | None = None) -> None:
        self.url = url
        self.reason = reason or message
        self.line = message or f"{UNREACHABLE}{url}: {reason}"
        self.variant = variant
        super().__init__(f"{variant}: {self.line}" if variant else self.line)


# What a lost connection to the daemon raises through docker-py (requests', urllib3's, the socket's,
# paramiko's for ssh:// engines) where no code of the suite caught it: :func:`translated` makes it
# a DaemonUnreachable.
ENGINE_GONE = (
    DaemonUnreachable,
    requests.exceptions.RequestException,  # ConnectionError, and a daemon that no longer answers in time
    urllib3.exceptions.HTTPError,  # ProtocolError in a stream read
    ConnectionError,
    paramiko.SSHException,
)


def translated(exc: BaseException, url: str | None = None, *, variant: str | None = None) -> DaemonUnreachable:
    """The lost engine's one error for ``exc`` (one of :data:`ENGINE_GONE`), naming the variant if given."""
    if isinstance(exc, DaemonUnreachable):
        return DaemonUnreachable(exc.line, url=exc.url, reason=exc.reason, variant=variant or exc.variant)
    return DaemonUnreachable(url=url or daemon_url(), reason=_reason(exc), variant=variant)


def daemon_url() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


SCHEMES = ("unix://", "tcp://", "ssh://")


@dataclass(frozen=True)
class Engine:
    """One Docker engine of the run (``--engine NAME=URL``; the local one by default).

    ``tls_*``: for ``tcp://`` engines, the client certificate, its key and the CA (paths);
    any of them makes the connection TLS (``tls_verify``: check the daemon's certificate).
    """

    name: str
    url: str
    tls_ca: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_verify: bool = True

    @property
    def local(self) -> bool:
        """On this machine (a unix socket): its GPUs are this host's."""
        return self.url.startswith("unix://")

    def tls(self) -> docker.tls.TLSConfig | bool:
        if not self.url.startswith("tcp://") or not (self.tls_ca or self.tls_cert):
            return False
        cert = (self.tls_cert, self.tls_key) if self.tls_cert and self.tls_key else None
        return docker.tls.TLSConfig(client_cert=cert, ca_cert=self.tls_ca, verify=self.tls_verify)


def default_engine() -> Engine:
    """The engine of today's single-engine run: ``DOCKER_HOST`` or the local socket."""
    return Engine("local", daemon_url())


def _unix_connect(self: unixconn.UnixHTTPConnection) -> None:
    """docker-py's ``UnixHTTPConnection.connect``, closing its socket when the connect fails.

    docker-py (7.1) leaves that socket open when the daemon is gone: every request to a lost
    daemon then leaks one (seen: stopping the engine mid-run), and under ``filterwarnings =
    error`` each leak becomes an error on whatever test the garbage collector runs in.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(self.timeout)
        sock.connect(self.unix_socket)
    except BaseException:
        sock.close()
        raise
    self.sock = sock


def connect(timeout: float = 10.0, engine: Engine | None = None) -> docker.DockerClient:
    """A client whose daemon answered a ping, or :class:`DaemonUnreachable`."""
    unixconn.UnixHTTPConnection.connect = _unix_connect  # type: ignore[method-assign]
    engine = engine or default_engine()
    url = engine.url
    client = None
    try:
        client = docker.DockerClient(base_url=url, version="auto", timeout=int(timeout), tls=engine.tls())
        client.ping()
    except Exception as exc:  # docker-py raises requests', urllib3's and its own errors
        if client is not None:
            client.close()
        failure = DaemonUnreachable(url=url, reason=_reason(exc))
    else:
        return client
    # A client whose constructor failed (asking the version) leaves its socket to the garbage
    # collector: closed here, quietly, rather than as a ResourceWarning in some later test.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    raise failure


# An ssh:// engine's sshd refusing one more channel: the SDK runs each HTTP connection as a session
# (`docker system dial-stdio`) on one SSH connection, and a run holds more than OpenSSH's default 10.
SSH_SESSIONS = "the engine's sshd refused one more session on the connection (raise its MaxSessions)"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, paramiko.ChannelException):
        return f"{SSH_SESSIONS}: {exc.text} (code {exc.code})"
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


# The daemon's refusals that are the host's: its disk full, or an engine too old for the suite's API.
# docker-py gives them no code of their own: read HERE, where the daemon's error is met, and carried
# on typed (:func:`daemon_fault` -> an error's ``fault``); nothing downstream reads the words again.
HOST_REFUSALS = ("no space left on device", "maximum supported api version", "is too new")


def daemon_fault(exc: BaseException) -> Fault | None:
    """Whose the daemon's refusal ``exc`` is: the host's (disk full, engine too old), else not said."""
    text = daemon_error(exc).lower()
    return "host" if any(words in text for words in HOST_REFUSALS) else None


def unreachable(exc: BaseException, url: str | None = None) -> str:
    """What a lost connection to the daemon (at ``url``, default the local one) is, in one line."""
    return f"{UNREACHABLE}{url or daemon_url()}: {_reason(exc)}"


def image_missing(variant: str, image: str) -> EngineError:
    return EngineError(f"{variant}: image {image} is not present (the suite pulls only with --pull)")


def require_image(client: docker.DockerClient, image: str, *, variant: str) -> str:
    """The image's ID, or the one error every part of the suite gives for a missing image."""
    try:
        return str(client.images.get(image).id or image)
    except docker.errors.ImageNotFound:
        raise image_missing(variant, image) from None
