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
# TEST SEAM: a known delay (seconds) before each echo and after each bulk read, set only by the
# self-tests (through PADDLE_VERIFY_TEST_SLOW_CONTAINER_AGENT_S on the host) to slow this agent.
DELAY = float(os.environ.get("PADDLE_VERIFY_TEST_DELAY_S") or 0)


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
            while True:
                msg = recv_exact(conn, MSG)
                if msg is None:
                    break
                if DELAY:
                    time.sleep(DELAY)
                conn.sendall(msg)
        elif mode == b"S":
            total = 0
            while True:
                part = conn.recv(1 << 20)
                if not part:
                    break
                total += len(part)
                if DELAY:
                    time.sleep(DELAY)
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
