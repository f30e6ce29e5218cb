"""The host's GPUs through NVML (``libnvidia-ml.so.1``), asked in a child process: a broken
driver may hang or crash whoever loads it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

NVML_SCRIPT = r"""
import ctypes, json, sys
lib = ctypes.CDLL(sys.argv[1])
out = {"init": lib.nvmlInit_v2(), "gpus": [], "driver": None}
if out["init"] == 0:
    buf = ctypes.create_string_buffer(96)
    if lib.nvmlSystemGetDriverVersion(buf, 96) == 0:
        out["driver"] = buf.value.decode()
    n = ctypes.c_uint(0)
    if lib.nvmlDeviceGetCount_v2(ctypes.byref(n)) == 0:
        for i in range(n.value):
            h = ctypes.c_void_p()
            if lib.nvmlDeviceGetHandleByIndex_v2(i, ctypes.byref(h)) != 0:
                continue
            uuid, name = ctypes.create_string_buffer(96), ctypes.create_string_buffer(96)
            lib.nvmlDeviceGetUUID(h, uuid, 96)
            lib.nvmlDeviceGetName(h, name, 96)
            out["gpus"].append({"index": i, "uuid": uuid.value.decode(), "name": name.value.decode()})
    lib.nvmlShutdown()
print(json.dumps(out))
"""


def nvml_gpus(
    libraries: Sequence[Path], timeout: float, looked: list[str], drivers: list[str]
) -> list[tuple[int, str, str]]:
    """(index, name, UUID) of each GPU NVML counts; what was looked at goes to ``looked``."""
    lib = next((p for p in libraries if p.name == "libnvidia-ml.so.1"), None)
    if lib is None:
        looked.append("NVML: no libnvidia-ml.so.1 among the driver libraries")
        return []
    # In a child process: a broken driver may hang or crash whoever loads it.
    try:
        proc = subprocess.run(
            [sys.executable, "-c", NVML_SCRIPT, str(lib)], capture_output=True, text=True, timeout=timeout, check=False
        )
        data = json.loads(proc.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.TimeoutExpired, ValueError, IndexError) as exc:
        looked.append(f"NVML ({lib}): {exc}")
        return []
    if data["init"] != 0 or not data["gpus"]:
        looked.append(f"NVML ({lib}): nvmlInit {data['init']}, {len(data['gpus'])} GPU(s)")
        return []
    looked.append(f"NVML ({lib}): {len(data['gpus'])} GPU(s)")
    if data["driver"]:
        drivers.append(str(data["driver"]))
    return [(int(g["index"]), str(g["name"]), str(g["uuid"])) for g in data["gpus"]]
