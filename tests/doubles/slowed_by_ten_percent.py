"""A TEST DOUBLE, baked on purpose into the test image ``cpu-slowed-by-ten-percent`` of
tests/test_benchmarks.py (loaded by a ``.pth`` line): every Python started in that image also
starts a process that, for each 10 ms of CPU its Python uses, keeps the same CPU busy 1 ms (it
inherits the cpuset). On the benchmark's one pinned CPU, that Python's work takes 10% longer;
an idle Python costs nothing (so the other image's agents on the same CPU are not slowed).
Never in a real image."""

import os
import subprocess
import sys

SPIN = """
import os, time
parent = int(os.environ["SLOWED_PARENT"])

def used():  # the parent's CPU time so far, in seconds
    try:
        with open("/proc/%d/schedstat" % parent) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, ValueError, IndexError):
        return None

last, owed = used(), 0.0
while last is not None and os.getppid() == parent:
    time.sleep(0.01)
    now = used()
    if now is None:
        break
    owed += (now - last) * 0.1
    last = now
    if owed >= 0.001:
        end = time.perf_counter() + owed
        while time.perf_counter() < end:
            pass
        owed = 0.0
"""

if os.environ.get("SLOWED_PARENT") is None:  # not in the spinner itself (-S: no .pth there anyway)
    subprocess.Popen(
        [sys.executable, "-S", "-c", SPIN],
        env={**os.environ, "SLOWED_PARENT": str(os.getpid())},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
