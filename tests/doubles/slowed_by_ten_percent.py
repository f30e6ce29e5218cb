"""A TEST DOUBLE, baked on purpose into the test image ``cpu-slowed-by-ten-percent`` of
tests/test_benchmarks.py (loaded by a ``.pth`` line): every Python started in that image also
starts a process that keeps its CPU busy 1 ms in every 10 ms, on the same CPUs (it inherits the
cpuset). On the benchmark's one pinned CPU the image's workloads get 90% of it: 11% slower.
Never in a real image."""

import os
import subprocess
import sys

SPIN = """
import os, time
parent = int(os.environ["SLOWED_PARENT"])
while os.getppid() == parent:
    end = time.perf_counter() + 0.001
    while time.perf_counter() < end:
        pass
    time.sleep(0.009)
"""

if os.environ.get("SLOWED_PARENT") is None:  # not in the spinner itself (-S: no .pth there anyway)
    subprocess.Popen(
        [sys.executable, "-S", "-c", SPIN],
        env={**os.environ, "SLOWED_PARENT": str(os.getpid())},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
