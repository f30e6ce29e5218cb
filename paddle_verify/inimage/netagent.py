# The network benchmark's server: runs in the image's Python, in a container
# (host network or bridge) or on bare metal, and serves two kinds of connection
# on HOST PORT (argv). The first byte of a connection chooses:
#   b"E": echo fixed-size messages back until EOF (request/response latency);
#   b"S": read until EOF, then answer the byte count as 8 bytes (bulk throughput).
# It prints "READY" once listening. It talks only to the peer that connects.
import os
import socket
import struct
import sys
import threading
import time

MSG = 64
# TEST SEAM: slow this agent by a known fraction, set only by the self-tests (through
# PADDLE_VERIFY_TEST_SLOW_CONTAINER_AGENT_PERCENT on the host): before each echo it waits that
# fraction of the last exchange's round trip, and before a bulk transfer's count that fraction of
# the transfer (which the client times up to the count).
SLOW = float(os.environ.get("PADDLE_VERIFY_TEST_SLOW_FACTOR") or 0)


def hold(seconds):
    """Busy for ``seconds`` (a sleep this short would last far longer)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def recv_exact(conn, n):
    buf = b""
    while len(buf) < n:
        part = conn.recv(n - len(buf))
        if not part:
            return None
        buf += part
    return buf


def serve(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        mode = conn.recv(1)
        if mode == b"E":
            sent = None
            while True:
                msg = recv_exact(conn, MSG)
                if msg is None:
                    break
                if SLOW and sent is not None:
                    hold(SLOW * (time.perf_counter() - sent))  # the exchange's round trip, as seen here
                conn.sendall(msg)
                sent = time.perf_counter()
        elif mode == b"S":
            total = 0
            start = time.perf_counter()
            while True:
                part = conn.recv(1 << 20)
                if not part:
                    break
                total += len(part)
            if SLOW:
                time.sleep(SLOW * (time.perf_counter() - start))
            conn.sendall(struct.pack(">Q", total))
    finally:
        conn.close()


def main():
    host, port = sys.argv[1], int(sys.argv[2])
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((host, port))
    srv.listen(16)
    sys.stdout.write("READY\n")
    sys.stdout.flush()
    while True:
        conn, _ = srv.accept()
        t = threading.Thread(target=serve, args=(conn,))
        t.daemon = True
        t.start()


if __name__ == "__main__":
    main()
