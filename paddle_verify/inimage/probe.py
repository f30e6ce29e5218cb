# Runs INSIDE the image under test, with the image's own Python, in one exec:
#     python -c "<this file>" '<json config>'
# It gathers every fact the checks need, each step under its own deadline, and
# prints one JSON line prefixed with MARKER. It must run on Python 2.7 and 3.x
# (the historical images ran Python 2), so: no f-strings, no annotations, no
# subprocess timeouts, and nothing outside the standard library.
# which(), text(), run(), python_child() and Jobs come from common.py, sent in front of this.
import json
import os
import platform
import sys

MARKER = "PADDLE_VERIFY_FACTS="


def command_facts(name):
    path = which(name)
    fact = {"name": name, "path": path, "executable": False, "mode": None}
    if path:
        st = os.stat(path)
        fact["mode"] = oct(st.st_mode & 0o7777)
        fact["executable"] = os.access(path, os.X_OK)
    return fact


IMPORTS = r"""
import json, sys, traceback
cfg = json.loads(sys.argv[1])
out = {"packages": {}, "paddle": None, "py_paddle_init": None, "computation": None}
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
                     "commit": getattr(v, "commit", None), "with_cuda": gpu}
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
if cfg["computation"]:
    try:
        import paddle
        a = paddle.to_tensor([[1.0, 2.0], [3.0, 4.0]])
        b = paddle.to_tensor([[5.0, 6.0], [7.0, 8.0]])
        out["computation"] = {"ok": True, "matmul": paddle.matmul(a, b).numpy().tolist(),
                              "expected": [[19.0, 22.0], [43.0, 50.0]]}
    except BaseException:
        out["computation"] = {"ok": False,
                              "error": traceback.format_exc().strip().splitlines()[-1]}
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""


# gpu variants, without a GPU: which of the CUDA libraries paddle dlopens the image's loader
# finds, and the versions of the image's CUDA runtime and cuDNN (neither call needs a driver).
CUDA = r"""
import ctypes, json, sys
cfg = json.loads(sys.argv[1])
out = {"libraries": {}, "runtime": cfg["runtime"], "runtime_version": None, "cudnn_version": None}
for name in cfg["libraries"]:
    try:
        ctypes.CDLL(name)
        out["libraries"][name] = {"ok": True}
    except OSError as exc:
        out["libraries"][name] = {"ok": False, "error": str(exc)}
if cfg["runtime"]:
    try:
        version = ctypes.c_int(0)
        rc = ctypes.CDLL(cfg["runtime"]).cudaRuntimeGetVersion(ctypes.byref(version))
        out["runtime_version"] = version.value if rc == 0 else None
        out["runtime_error"] = None if rc == 0 else "cudaRuntimeGetVersion returned %d" % rc
    except (OSError, AttributeError) as exc:
        out["runtime_error"] = str(exc)
for name in cfg["libraries"]:
    if name.startswith("libcudnn") and out["libraries"][name]["ok"]:
        lib = ctypes.CDLL(name)
        lib.cudnnGetVersion.restype = ctypes.c_size_t
        out["cudnn_version"] = int(lib.cudnnGetVersion())
sys.stdout.write("\n" + json.dumps(out) + "\n")
"""


def launcher_runs(cfg, env):
    launcher = cfg["launcher"]
    path = which(launcher) or launcher
    runs = {}
    for sub in cfg["launcher_subcommands"]:
        argv = [path, sub] if sub == "version" else [path, sub, "--help"]
        runs[sub] = run(argv, cfg["timeout"], env)
    return runs


def source_facts(dirs, markers, limit=2000):
    out = []
    for d in dirs:
        fact = {"dir": d, "exists": os.path.isdir(d), "markers": {}, "files": 0}
        if fact["exists"]:
            for m in markers:
                fact["markers"][m] = os.path.exists(os.path.join(d, m))
            for _root, _dirs, files in os.walk(d):
                fact["files"] += len(files)
                if fact["files"] >= limit:
                    break
        out.append(fact)
    return out


def oom_kills():
    """How many processes the kernel's OOM killer killed in this container (cgroup v2 or v1)."""
    for path in ("/sys/fs/cgroup/memory.events", "/sys/fs/cgroup/memory/memory.oom_control"):
        try:
            with open(path) as fh:
                for line in fh:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except (IOError, OSError, ValueError):
            pass
    return None


def python_headers():
    import sysconfig

    inc = sysconfig.get_paths().get("include") or ""
    header = os.path.join(inc, "Python.h")
    return {"include": inc, "python_h": os.path.exists(header)}


def main():
    cfg = json.loads(sys.argv[1])
    env = dict(cfg.get("env") or {})
    timeout = cfg["timeout"]
    facts = {
        "kernel": platform.release(),
        "commands": {},
        "launcher_runs": {},
        "imports": None,
        "devel": None,
        "cuda": None,
        "demo_train": None,
    }
    for name in [cfg["launcher"]] + cfg["commands"]:
        facts["commands"][name] = command_facts(name)

    jobs = Jobs("probe")

    jobs.start("launcher_runs", launcher_runs, cfg, env)
    jobs.start(
        "imports",
        python_child,
        IMPORTS,
        {"packages": cfg["packages"], "py_paddle_init": cfg["py_paddle_init"], "computation": cfg["computation"]},
        timeout,
        env,
    )
    if cfg.get("cuda"):
        jobs.start("cuda", python_child, CUDA, cfg["cuda"], timeout, env)
    if cfg.get("demo_train"):
        jobs.start("demo_train", python_child, cfg["demo_train"], {}, timeout, env)
    if cfg.get("devel"):
        dv = cfg["devel"]
        facts["devel"] = {
            "toolchain": dict((name, run(argv, timeout, env)) for name, argv in dv["toolchain"]),
            "headers": python_headers(),
            "sources": source_facts(dv["source_dirs"], dv["source_markers"]),
        }
    jobs.collect(facts, timeout)
    facts["oom_kills"] = oom_kills()
    sys.stdout.write("\n" + MARKER + json.dumps(facts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
