# The devel builds: a devel image proves its toolchain by building something small and running
# it, not by answering --version. Each step writes its sources into a temporary directory of its
# own (removed afterwards), compiles, runs or imports the result, and compares what it printed
# with what it must print. probe.py starts each step as one of its Jobs (start_devel_builds), so the
# builds overlap its other steps; gpu_probe.py runs the "cuda" step's program on a GPU (run_cuda).
# Steps: c (stdio.h), cxx (iostream, vector), python_extension (Python.h, imported by this Python),
# custom_op (paddle.utils.cpp_extension.load: paddle's C++ headers, built and run on a tensor; in the
# imports' interpreter, after them: probe.py),
# cuda (the contract's cuda_compiler: a kernel compiled and linked; run only where a GPU is).
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py); which() and run() come
# from common.py, the sources and EXPECTED from devel_sources.py, sent in front of this.
import json
import os
import shutil
import sys
import sysconfig
import tempfile


def _ext_suffix():
    return sysconfig.get_config_var("EXT_SUFFIX") or sysconfig.get_config_var("SO") or ".so"


def _phases(step, d, cfg):
    """(phase, argv, source file, source text) of each phase of ``step`` in the directory ``d``."""

    def j(name):
        return os.path.join(d, name)

    exe = sys.executable
    if step == "c":
        return [
            ("compile", [cfg["c_compiler"], "-o", j("pv_c"), j("pv_c.c")], "pv_c.c", C_SOURCE),
            ("run", [j("pv_c")], None, None),
        ]
    if step == "cxx":
        return [
            ("compile", [cfg["cxx_compiler"], "-o", j("pv_cxx"), j("pv_cxx.cc")], "pv_cxx.cc", CXX_SOURCE),
            ("run", [j("pv_cxx")], None, None),
        ]
    if step == "python_extension":
        include = python_headers()["include"]  # probe.py's: where `setup.py build_ext` looks (Debian's 2.7)
        argv = [cfg["c_compiler"], "-shared", "-fPIC", "-I" + include, j("pv_ext.c"), "-o", j("pv_ext" + _ext_suffix())]
        return [("compile", argv, "pv_ext.c", PYEXT_SOURCE), ("import", [exe, "-c", PYEXT_IMPORT, d], None, None)]
    if step == "custom_op":  # run by probe.py in the imports' interpreter (custom_op_chained), after them
        return [
            (
                "build and run",
                [exe, "-c", CUSTOM_OP_SCRIPT, json.dumps({"custom_op_dir": d})],
                "pv_op.cc",
                CUSTOM_OP_SOURCE,
            )
        ]
    if step == "cuda":
        phases = [("compile", [cfg["cuda_compiler"], "-o", j("pv_cuda"), j("pv_cuda.cu")], "pv_cuda.cu", CUDA_SOURCE)]
        return phases + ([("run", [j("pv_cuda")], None, None)] if cfg.get("cuda_run") else [])
    raise ValueError("unknown devel build step %r" % step)


def _log_tail(d):
    """The last lines of the custom op's build log, when a timed-out build left one."""
    try:
        with open(os.path.join(d, "build.log")) as fh:
            lines = [ln.rstrip() for ln in fh if ln.strip()]
    except (IOError, OSError):
        return ""
    return "; the build's last lines: " + " | ".join(ln[-200:] for ln in lines[-3:])


def _niced(argv):
    """Builds run at a low priority (`nice`, where the image has it): they overlap the probe's other
    steps, whose deadlines must not be missed because a compiler took the CPU."""
    nice = which("nice")
    return [nice, "-n", "15"] + argv if nice else argv


def build_step(step, cfg, env, runner=None, d=None):
    """One step: its phases in order, the first that fails ends it. Never raises for the image's faults.
    ``runner(argv)``, when given, runs a phase instead of run() (the custom op: in the imports'
    interpreter); ``d``: the step's directory, made by whoever gave the runner (removed here)."""
    timeout = cfg["timeout"]  # each phase's deadline
    d = d or tempfile.mkdtemp(prefix="pv-devel-")
    out = {
        "step": step,
        "ok": False,
        "phase": None,
        "argv": [],
        "rc": None,
        "output": "",
        "expected": EXPECTED[step],
        "got": None,
        "seconds": 0.0,
        "timed_out": False,
    }
    try:
        phases = _phases(step, d, cfg)
        for phase, argv, name, source in phases:
            if name:
                with open(os.path.join(d, name), "w") as fh:
                    fh.write(source)
            if phase == "compile" and not which(argv[0]):
                out.update(phase=phase, argv=argv, output="%s is not on PATH" % argv[0])
                return out
            res = runner(argv) if runner else run(_niced(argv), timeout, env)
            out["seconds"] = round(out["seconds"] + res["seconds"], 3)
            both = (res["stderr"] + "\n" + res["stdout"]).strip()
            out.update(phase=phase, argv=argv, rc=res["rc"], output=both[-1500:], timed_out=res["timed_out"])
            if res["error"] or res["rc"] != 0:
                if res["timed_out"]:  # named by its own command, not nice; where the build was, if it logged
                    both += "\n%s: no answer within %ss%s" % (argv[0], timeout, _log_tail(d))
                elif res["error"]:
                    both += "\n" + res["error"]
                out["output"] = both.strip()[-1500:]
                return out
        if phase == "compile":  # compiled and linked, not run (no GPU asked for): nothing to compare
            out.update(ok=True, expected="(compiled, not run)", got="(compiled, not run)", output="")
            return out
        lines = [ln.strip() for ln in res["stdout"].splitlines() if ln.strip()]
        out["got"] = lines[-1] if lines else ""
        out["ok"] = out["got"] == out["expected"]
        out["output"] = "" if out["ok"] else out["output"]
        return out
    finally:
        shutil.rmtree(d, True)


def start_devel_builds(jobs, cfg, env):
    """Each step as a job of its own: the builds overlap each other and the probe's other steps. The
    custom op is not among them: probe.py runs it after the imports, in their interpreter (one
    ``import paddle`` less), and gives its result to custom_op_result."""
    for step in cfg["steps"]:
        if step != "custom_op":
            jobs.start("devel_builds." + step, build_step, step, cfg, env)


def custom_op_chained(cfg):
    """(the script, its directory) of the custom op, for the imports' interpreter, or (None, None) when
    the contract asks for none. The directory holds its source; custom_op_result removes it."""
    if "custom_op" not in cfg["steps"]:
        return None, None
    d = tempfile.mkdtemp(prefix="pv-devel-")
    for _phase, _argv, name, source in _phases("custom_op", d, cfg):
        with open(os.path.join(d, name), "w") as fh:
            fh.write(source)
    return CUSTOM_OP_SCRIPT, d


def custom_op_result(cfg, env, d, part):
    """The custom op's result (as build_step gives it) from its part of the imports' interpreter (or
    from the probe's own error, when that interpreter's job failed)."""
    res = {"rc": None, "stdout": "", "stderr": "", "error": None, "timed_out": False, "seconds": 0.0}
    res.update(part)
    return build_step("custom_op", cfg, env, runner=lambda argv: res, d=d)


def collect_devel_builds(jobs, facts, cfg):
    """Wait for the builds (before jobs.collect, whose wait is the other steps' deadline, shorter
    than theirs) and put their results in facts["devel_builds"], by step."""
    results = {}
    for step in cfg["steps"]:
        if step == "custom_op":  # probe.py's, after the imports
            continue
        thread, holder = jobs.started.pop("devel_builds." + step)
        thread.join(2 * cfg["timeout"] + 5)  # at most two phases, each bounded by cfg["timeout"]
        results[step] = holder.get("value", {"error": "devel build %s did not finish" % step})
    facts["devel_builds"] = results
