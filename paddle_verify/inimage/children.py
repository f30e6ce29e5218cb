# The scripts the probe (probe.py) runs in child interpreters, each under its own deadline:
# IMPORTS (the contract's packages, paddle's build, py_paddle, a computation in the API of
# the paddle's era: 2.x and later, or 1.x's paddle.fluid) and CUDA (gpu
# variants: the CUDA libraries and versions). Sent in front of probe.py; see the rule in __init__.py.
IMPORTS = r"""
import json, sys, time, traceback
cfg = json.loads(sys.argv[1])
out = {"packages": {}, "paddle": None, "py_paddle_init": None, "computation": None}
started = time.time()
try:  # first, to time it alone (the packages below import it again from sys.modules)
    import paddle
except BaseException:
    pass
import_seconds = round(time.time() - started, 3)
def version_of(mod):
    for attr in ("__version__", "VERSION", "version"):
        v = getattr(mod, attr, None)
        if isinstance(v, str):
            return v
    v = getattr(getattr(mod, "version", None), "full_version", None)
    return v if isinstance(v, str) else None
for name in cfg["packages"]:
    try:
        mod = __import__(name)
        for part in name.split(".")[1:]:
            mod = getattr(mod, part)
        top = sys.modules[name.split(".")[0]]
        out["packages"][name] = {"ok": True, "version": version_of(mod) or version_of(top),
                                 "file": getattr(mod, "__file__", None)}
    except BaseException:
        lines = traceback.format_exc().strip().splitlines()
        out["packages"][name] = {"ok": False, "error": lines[-1], "trace": lines[-6:]}
try:
    import paddle
    v = paddle.version
    gpu = None
    for fn in ("is_compiled_with_cuda",):
        if hasattr(paddle, fn):
            gpu = bool(getattr(paddle, fn)())
    out["paddle"] = {"version": getattr(v, "full_version", None),
                     "commit": getattr(v, "commit", None), "with_cuda": gpu,
                     "import_seconds": import_seconds}
    for fn in ("cuda", "cudnn"):  # the CUDA and cuDNN this paddle was built with ("False" for cpu)
        if hasattr(v, fn):
            out["paddle"][fn] = str(getattr(v, fn)())
    if hasattr(paddle, "device") and hasattr(paddle.device, "get_device"):
        out["paddle"]["device"] = paddle.device.get_device()
except BaseException:
    out["paddle"] = {"error": traceback.format_exc().strip().splitlines()[-1]}
if cfg["py_paddle_init"]:
    try:
        from py_paddle import swig_paddle
        swig_paddle.initPaddle("--use_gpu=0")
        out["py_paddle_init"] = {"ok": True}
    except BaseException:
        out["py_paddle_init"] = {"ok": False,
                                 "error": traceback.format_exc().strip().splitlines()[-1]}
def compute_2x(paddle, a, b):  # paddle 2.x and later: eager tensors
    return paddle.matmul(paddle.to_tensor(a), paddle.to_tensor(b)).numpy()
def compute_1x(paddle, a, b):  # paddle 1.x: fluid's imperative mode (a dygraph guard on the CPU)
    import numpy
    import paddle.fluid as fluid
    with fluid.dygraph.guard(fluid.CPUPlace()):
        x = fluid.dygraph.to_variable(numpy.array(a, dtype="float32"))
        y = fluid.dygraph.to_variable(numpy.array(b, dtype="float32"))
        return fluid.layers.matmul(x, y).numpy()
def computation_for(version):
    # The computation in the API of this paddle's major version, or None when none is known
    # (0.x, no version): the era decides, not what the module happens to hold, so that a 2.x
    # without to_tensor fails instead of falling back to fluid. A build from the develop
    # branch says "0.0.0" (no 0.x release did): it is of today's line.
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        return None
    if major >= 2 or str(version).startswith("0.0.0"):
        return "paddle.to_tensor + paddle.matmul", compute_2x
    if major == 1:
        return "fluid.dygraph.to_variable + fluid.layers.matmul", compute_1x
    return None
if cfg["computation"]:
    try:
        import paddle
        version = getattr(paddle, "__version__", None) or (out["paddle"] or {}).get("version")
        known = computation_for(version)
        if known is None:
            out["computation"] = {"ok": False, "known": False, "paddle_version": str(version)}
        else:
            out["computation"] = {"ok": False, "known": True, "paddle_version": str(version),
                                  "api": known[0], "expected": [[19.0, 22.0], [43.0, 50.0]]}
            result = known[1](paddle, [[1.0, 2.0], [3.0, 4.0]], [[5.0, 6.0], [7.0, 8.0]])
            out["computation"].update({"ok": True, "matmul": result.tolist()})
    except BaseException:
        if out["computation"] is None:
            out["computation"] = {"ok": False}
        out["computation"]["error"] = traceback.format_exc().strip().splitlines()[-1]
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""


# gpu variants, without a GPU: which of the CUDA libraries paddle dlopens the image's loader
# finds, and the versions of the image's CUDA runtime and cuDNN (neither call needs a driver).
# With no runtime named and "runtime_candidates" given (discovery), the first that loads is the runtime.
CUDA = r"""
import ctypes, json, os, re, sys
cfg = json.loads(sys.argv[1])
out = {"libraries": {}, "runtime": cfg["runtime"], "runtime_version": None, "runtime_version_from": None,
       "cudnn_version": None}
for name in cfg["libraries"]:
    try:
        ctypes.CDLL(name)
        out["libraries"][name] = {"ok": True}
    except OSError as exc:
        out["libraries"][name] = {"ok": False, "error": str(exc)}
def shipped_version(path):
    # The CUDA version of the runtime library file: its full file name (libcudart.so.11.8.89,
    # as CUDA's own packages install it), else the version of the pip package that ships it.
    m = re.match(r"libcudart\.so\.(\d+)\.(\d+)\.", os.path.basename(os.path.realpath(path)))
    if m:
        return int(m.group(1)) * 1000 + int(m.group(2)) * 10, "file name " + os.path.realpath(path)
    try:
        import importlib.metadata as md
    except ImportError:
        return None, None
    for dist in md.distributions():
        for f in dist.files or ():
            if os.path.realpath(str(dist.locate_file(f))) == os.path.realpath(path):
                major, minor = dist.version.split(".")[:2]
                return int(major) * 1000 + int(minor) * 10, "package %s %s" % (dist.metadata["Name"], dist.version)
    return None, None


# Discovery (paddle-verify init): no runtime named, the first of the candidates that loads is it.
if not cfg["runtime"]:
    for name in cfg.get("runtime_candidates") or ():
        try:
            ctypes.CDLL(name)
        except OSError:
            continue
        cfg["runtime"] = out["runtime"] = name
        break
if cfg["runtime"]:
    try:
        lib = ctypes.CDLL(cfg["runtime"])
        version = ctypes.c_int(0)
        rc = lib.cudaRuntimeGetVersion(ctypes.byref(version))
        if rc == 0:
            out["runtime_version"], out["runtime_version_from"] = version.value, "cudaRuntimeGetVersion"
        else:  # 35, cudaErrorInsufficientDriver: no driver on this host; ask the file instead
            path = [ln.split()[-1] for ln in open("/proc/self/maps") if "/libcudart" in ln][0]
            out["runtime_version"], out["runtime_version_from"] = shipped_version(path)
            out["runtime_error"] = "cudaRuntimeGetVersion returned %d" % rc
    except (OSError, AttributeError, IndexError) as exc:
        out["runtime_error"] = str(exc)
for name in cfg["libraries"]:
    if name.startswith("libcudnn") and out["libraries"][name]["ok"]:
        lib = ctypes.CDLL(name)
        lib.cudnnGetVersion.restype = ctypes.c_size_t
        out["cudnn_version"] = int(lib.cudnnGetVersion())
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""
