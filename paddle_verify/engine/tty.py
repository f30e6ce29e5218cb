"""Drive ``docker run -it IMAGE`` the way a person does: a TTY, no command override.

The container runs the image's own default command with a TTY and an open
stdin. We type a line into it and read the screen until the answer comes,
the container exits, or the deadline passes.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass
from typing import Any

import docker.errors

from .client import ENGINE_GONE, image_missing, translated
from .execs import close_socket
from .session import Session, cid, container_state

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r")
# `$?` is expanded only by a shell: the echo of what we typed cannot match this.
ANSWER = re.compile(r"__PADDLE_VERIFY_RC=(\d+)__")


@dataclass
class TtySession:
    """What a person would have seen after ``docker run -it IMAGE``."""

    default_command: list[str]
    transcript: str
    answered: bool
    rc: int | None
    exited: bool
    exit_code: int | None
    seconds: float


def drive(
    session: Session,
    image: str,
    *,
    variant: str,
    line: str,
    timeout: float,
) -> TtySession:
    """Start ``image`` interactively and type ``line`` followed by the answer marker."""
    try:
        return _drive(session, image, variant=variant, line=line, timeout=timeout)
    except ENGINE_GONE as exc:  # the daemon went away under docker-py: the lost engine's one error
        raise translated(exc, session.url, variant=variant) from None


def _drive(session: Session, image: str, *, variant: str, line: str, timeout: float) -> TtySession:
    client = session.client
    try:
        attrs = client.images.get(image).attrs
    except docker.errors.ImageNotFound:
        raise image_missing(variant, image) from None
    cfg = attrs.get("Config") or {}
    default = list(cfg.get("Entrypoint") or []) + list(cfg.get("Cmd") or [])
    start = time.monotonic()
    container = session.create_container(
        image,
        variant=variant,
        purpose="tty",
        tty=True,
        stdin_open=True,
        network_mode="none",
    )
    try:
        sock = client.api.attach_socket(cid(container), params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
        raw: Any = getattr(sock, "_sock", sock)
        try:
            session.start_container(container, variant=variant)
            typed = f"{line}; echo __PADDLE_VERIFY_RC=$?__\n"
            with contextlib.suppress(OSError):
                raw.sendall(typed.encode())
            transcript, rc = _read_until_answer(raw, time.monotonic() + timeout)
        finally:
            close_socket(sock)
        state = container_state(container)
        exited = state["status"] in ("exited", "dead")
        return TtySession(
            default_command=default,
            transcript=transcript,
            answered=rc is not None,
            rc=rc,
            exited=exited,
            exit_code=state["exit_code"] if exited else None,
            seconds=time.monotonic() - start,
        )
    finally:
        session.remove(cid(container))


def _read_until_answer(raw: Any, deadline: float) -> tuple[str, int | None]:
    buf = b""
    while True:
        text = ANSI.sub("", buf.decode("utf-8", "replace"))
        m = ANSWER.search(text)
        if m:
            return text, int(m.group(1))
        left = deadline - time.monotonic()
        if left <= 0:
            return text, None
        raw.settimeout(left)
        try:
            part = raw.recv(65536)
        except TimeoutError:
            return text, None
        except OSError:
            return text, None
        if not part:
            return ANSI.sub("", buf.decode("utf-8", "replace")), None
        buf += part
