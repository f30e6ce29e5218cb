# Runs INSIDE the image under test, with the image's own Python, in one exec:
#     python -c "<this file>" '<json config>'
# It gathers what the GPU checks need, each step under its own deadline and in
# its own child process (a broken driver may hang or crash the one that loads
# it), and prints one JSON line prefixed with MARKER:
#   device_nodes: every /dev/nvidia* (char devices with major:minor, directories)
#   libcuda:      loaded by name or at a mounted path (ctypes), cuInit, cuDeviceGetCount, names, UUIDs
#   libcuda_files: libcuda* files in the usual driver directories
#   nvidia_smi:   `nvidia-smi -L`, where the image (or the mapping) has it
#   paddle:       (gpu variants) compiled with CUDA, its GPU count, a matmul on GPU 0 vs on the CPU
#   run_check:    (gpu variants) paddle's own install check, on the GPUs (RUN_CHECK of run_check.py)
#   cuda_program: (devel gpu variants) devel.py's CUDA program, compiled and run on the GPU
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py).
# which(), text(), run(), python_child() and Jobs come from common.py, RUN_CHECK from run_check.py,
# build_step from devel.py, all sent in front of this.
import glob
import json
import os
import stat
import sys

MARKER = "PADDLE_VERIFY_GPU="
DRIVER_DIRS = [
    "/usr/lib64",
    "/usr/lib/x86_64-linux-gnu",
    "/usr/lib/aarch64-linux-gnu",
    "/usr/local/nvidia/lib64",
    "/usr/local/nvidia/lib",
    "/usr/lib",
    "/lib64",
]


def device_nodes():
    nodes = []
    for path in sorted(glob.glob("/dev/nvidia*")):
        try:
            st = os.stat(path)
        except OSError as exc:
            nodes.append({"path": path, "kind": "unreadable", "error": str(exc)})
            continue
        if stat.S_ISCHR(st.st_mode):
            node = {"path": path, "kind": "char", "major": os.major(st.st_rdev), "minor": os.minor(st.st_rdev)}
        elif stat.S_ISDIR(st.st_mode):
            node = {"path": path, "kind": "dir"}
        else:
            node = {"path": path, "kind": "other"}
        nodes.append(node)
    return nodes


def libcuda_files(extra_dirs):
    found = []
    for d in DRIVER_DIRS + list(extra_dirs):
        for path in sorted(glob.glob(os.path.join(d, "libcuda.so*"))):
            if path not in found:
                found.append(path)
    return found


LIBCUDA = r"""
import ctypes, json, sys
cfg = json.loads(sys.argv[1])
out = {"loaded": None, "tried": [], "init": None, "count": None, "driver_version": None, "names": [], "uuids": []}
lib = None
for name in cfg["names"]:
    try:
        lib = ctypes.CDLL(name)
        out["loaded"] = name
        break
    except OSError as exc:
        out["tried"].append("%s: %s" % (name, exc))
if lib is not None:
    out["init"] = int(lib.cuInit(0))
    version = ctypes.c_int(0)
    if lib.cuDriverGetVersion(ctypes.byref(version)) == 0:
        out["driver_version"] = version.value
    if out["init"] == 0:
        count = ctypes.c_int(-1)
        rc = int(lib.cuDeviceGetCount(ctypes.byref(count)))
        out["count_rc"] = rc
        out["count"] = count.value if rc == 0 else None
        for i in range(out["count"] or 0):
            dev = ctypes.c_int(-1)
            if lib.cuDeviceGet(ctypes.byref(dev), i) != 0:
                continue
            buf = ctypes.create_string_buffer(256)
            if lib.cuDeviceGetName(buf, 256, dev) == 0:
                out["names"].append(buf.value.decode("utf-8", "replace"))
            raw = ctypes.create_string_buffer(16)
            if getattr(lib, "cuDeviceGetUuid", None) is not None and lib.cuDeviceGetUuid(raw, dev) == 0:
                h = "".join("%02x" % b for b in bytearray(raw.raw))
                out["uuids"].append("GPU-%s-%s-%s-%s-%s" % (h[:8], h[8:12], h[12:16], h[16:20], h[20:]))
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""

PADDLE = r"""
import json, sys, traceback
out = {"compiled_with_cuda": None, "device_count": None, "count_how": None, "matmul": None}
try:
    import paddle
    out["compiled_with_cuda"] = bool(paddle.is_compiled_with_cuda())
    for how in ("paddle.device.cuda.device_count", "paddle.fluid.core.get_cuda_device_count"):
        fn = paddle
        try:
            for part in how.split(".")[1:]:
                fn = getattr(fn, part)
        except AttributeError:
            continue
        out["device_count"] = int(fn())
        out["count_how"] = how + "()"
        break
except BaseException:
    out["error"] = traceback.format_exc().strip().splitlines()[-1]
if out["device_count"]:
    try:
        import numpy as np
        # Small integers: every product and sum is exact in float32 and in TF32,
        # so the GPU must give exactly the CPU's answer.
        n = 256
        a = (np.arange(n * n, dtype="int64").reshape(n, n) % 7 - 3).astype("float32")
        b = (np.arange(n * n, dtype="int64").reshape(n, n).T % 5 - 2).astype("float32")
        cpu = paddle.matmul(paddle.to_tensor(a, place=paddle.CPUPlace()), paddle.to_tensor(b, place=paddle.CPUPlace()))
        gpu = paddle.matmul(paddle.to_tensor(a, place=paddle.CUDAPlace(0)), paddle.to_tensor(b, place=paddle.CUDAPlace(0)))
        c, g = cpu.numpy(), gpu.numpy()
        out["matmul"] = {"ok": True, "shape": [n, n], "gpu_place": str(gpu.place), "cpu_place": str(cpu.place),
                         "max_abs_diff": float(np.abs(c - g).max()), "numpy_diff": float(np.abs(c - a.dot(b)).max()),
                         "checksum_cpu": float(c.sum()), "checksum_gpu": float(g.sum())}
    except BaseException:
        out["matmul"] = {"ok": False, "error": traceback.format_exc().strip().splitlines()[-1]}
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""


def main():
    cfg = json.loads(sys.argv[1])
    env = dict(cfg.get("env") or {})
    timeout = cfg["timeout"]
    facts = {
        "device_nodes": device_nodes(),
        "libcuda_files": libcuda_files(cfg.get("lib_dirs") or []),
        "libcuda": None,
        "nvidia_smi": None,
        "paddle": None,
        "run_check": None,
        "cuda_program": None,
    }
    jobs = Jobs("gpu probe")

    jobs.start("libcuda", python_child, LIBCUDA, {"names": cfg["libcuda_names"]}, timeout, env)
    smi = which("nvidia-smi")
    if smi:
        jobs.start("nvidia_smi", run, [smi, "-L"], timeout, env)
    if cfg.get("paddle"):
        jobs.start("paddle", python_child, PADDLE, {}, timeout, env)
    if cfg.get("run_check"):
        jobs.start("run_check", python_child, RUN_CHECK, {}, timeout, env)
    if cfg.get("cuda_program"):
        jobs.start("cuda_program", build_step, "cuda", cfg["cuda_program"], env)
    jobs.collect(facts, timeout)
    sys.stdout.write("\n" + MARKER + json.dumps(facts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
