"""The network benchmark's client side: request/response latency and bulk throughput.

Traffic goes only to the addresses of the paths the benchmark set up itself:
loopback (bare metal, ``--net=host``, the port published on 127.0.0.1) and the
bridge address of the container it started. Every exchange is bounded in count
and time.
"""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass, field

MSG = 64
CHUNK = 64 * 1024


@dataclass
class PathSamples:
    """What one network path gave over the interleaved rounds."""

    name: str
    address: tuple[str, int]
    description: str
    rtts: list[float] = field(default_factory=list)  # every round trip, seconds
    round_p50: list[float] = field(default_factory=list)  # per-round median round trip
    throughput: list[float] = field(default_factory=list)  # per-round bytes/second


def wait_listening(address: tuple[str, int], deadline_s: float) -> None:
    """Connect until the server answers or the deadline passes (no fixed sleeps)."""
    deadline = time.monotonic() + deadline_s
    delay = 0.01
    while True:
        try:
            with socket.create_connection(address, timeout=1):
                return
        except OSError as exc:
            if time.monotonic() + delay > deadline:
                raise TimeoutError(
                    f"nothing listens on {address[0]}:{address[1]} after {deadline_s:.0f}s: {exc}"
                ) from None
            time.sleep(delay)  # back-off between connection attempts, bounded by the deadline
            delay = min(delay * 2, 0.2)


def request_response(address: tuple[str, int], count: int, timeout: float = 10) -> list[float]:
    """``count`` round trips of a 64-byte message; each one's duration."""
    msg = b"x" * MSG
    rtts = []
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.sendall(b"E")
        for _ in range(count):
            start = time.perf_counter()
            sock.sendall(msg)
            got = 0
            while got < MSG:
                part = sock.recv(MSG - got)
                if not part:
                    raise ConnectionError(f"{address}: echo server closed the connection")
                got += len(part)
            rtts.append(time.perf_counter() - start)
    return rtts


def bulk(address: tuple[str, int], seconds: float, timeout: float = 10) -> float:
    """Send for ``seconds``, then wait for the count the server received; bytes/second."""
    payload = b"\0" * CHUNK
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(b"S")
        start = time.perf_counter()
        end = start + seconds
        while time.perf_counter() < end:
            sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        raw = b""
        while len(raw) < 8:
            part = sock.recv(8 - len(raw))
            if not part:
                raise ConnectionError(f"{address}: sink closed without a count")
            raw += part
        elapsed = time.perf_counter() - start
    received: int = struct.unpack(">Q", raw)[0]
    return received / elapsed


def measure(paths: list[PathSamples], *, rounds: int, messages: int, bulk_seconds: float) -> None:
    """Round after round, every path; the first two (the gated pair: bare metal and ``--net=host``)
    twice, back to back, A B at the round's start and B A at its end, so that each pair of samples
    shares the machine's state and the gated comparison has two pairs a round; the others between
    them, their order turning."""
    import statistics

    gated, others = paths[:2], paths[2:]
    for r in range(rounds):
        turn = r % len(others) if others else 0
        for path in gated + others[turn:] + others[:turn] + gated[::-1]:
            rtts = request_response(path.address, messages)
            path.rtts.extend(rtts)
            path.round_p50.append(statistics.median(rtts))
            path.throughput.append(bulk(path.address, bulk_seconds))
