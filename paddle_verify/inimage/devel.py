# The devel builds: a devel image proves its toolchain by building something small and running
# it, not by answering --version. Each step writes its sources into a temporary directory of its
# own (removed afterwards), compiles, runs or imports the result, and compares what it printed
# with what it must print. probe.py starts each step as one of its Jobs (start_devel_builds), so the
# builds overlap its other steps; gpu_probe.py runs the "cuda" step's program on a GPU (run_cuda).
# Steps: c (stdio.h), cxx (iostream, vector), python_extension (Python.h, imported by this Python),
# custom_op (paddle.utils.cpp_extension.load: paddle's C++ headers, built and run on a tensor),
# cuda (the contract's cuda_compiler: a kernel compiled and linked; run only where a GPU is).
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py); which() and run() come
# from common.py, sent in front of this.
import os
import shutil
import sys
import sysconfig
import tempfile

C_SOURCE = r"""#include <stdio.h>
int main(void) { printf("pv-c %d\n", 6 * 7); return 0; }
"""

CXX_SOURCE = r"""#include <iostream>
#include <vector>
int main() {
  std::vector<int> v;
  for (int i = 1; i <= 10; ++i) v.push_back(i);
  int sum = 0;
  for (std::vector<int>::size_type i = 0; i < v.size(); ++i) sum += v[i];
  std::cout << "pv-cxx " << sum << std::endl;
  return 0;
}
"""

# Python 2 and 3 alike: the module's init differs, the rest is the same C API.
PYEXT_SOURCE = r"""#include <Python.h>
static PyObject *twice_plus_one(PyObject *self, PyObject *args) {
  long v;
  if (!PyArg_ParseTuple(args, "l", &v)) return NULL;
  return Py_BuildValue("l", 2 * v + 1);
}
static PyMethodDef methods[] = {{"twice_plus_one", twice_plus_one, METH_VARARGS, "2v+1"}, {NULL, NULL, 0, NULL}};
#if PY_MAJOR_VERSION >= 3
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "pv_ext", NULL, -1, methods};
PyMODINIT_FUNC PyInit_pv_ext(void) { return PyModule_Create(&module); }
#else
PyMODINIT_FUNC initpv_ext(void) { Py_InitModule("pv_ext", methods); }
#endif
"""

PYEXT_IMPORT = (
    "import sys; sys.path.insert(0, sys.argv[1]); import pv_ext; print('pv-ext %d' % pv_ext.twice_plus_one(20))"
)

CUSTOM_OP_SOURCE = r"""#include "paddle/extension.h"
#include <vector>
std::vector<paddle::Tensor> PvScaleAdd(const paddle::Tensor& x) {
  PD_CHECK(x.is_cpu(), "pv_scale_add: x must be a CPU tensor");
  auto out = paddle::empty_like(x);
  const float* in = x.data<float>();
  float* res = out.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) res[i] = 2.0f * in[i] + 1.0f;
  return {out};
}
PD_BUILD_OP(pv_scale_add).Inputs({"X"}).Outputs({"Out"}).SetKernelFn(PD_KERNEL(PvScaleAdd));
"""

# The build's own output (verbose=True: every command, and the compiler's messages) goes to a log
# file, not to this child's stdout: it is long, and what run() keeps of an output (its first and last
# 2000 characters) could cut the compiler's error out. On failure the child prints the log's lines
# that say "error" (the compiler's first ones), its last lines and the exception, in that order.
CUSTOM_OP_SCRIPT = r"""
import os, sys
d = sys.argv[1]
log = os.path.join(d, "build.log")
sys.stdout.flush()
sys.stderr.flush()
saved = os.dup(1), os.dup(2)
fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 420)
os.dup2(fd, 1)
os.dup2(fd, 2)
failed = None
try:
    import paddle
    from paddle.utils import cpp_extension
    build = os.path.join(d, "build")
    os.mkdir(build)
    mod = cpp_extension.load(name="pv_custom_op", sources=[os.path.join(d, "pv_op.cc")],
                             build_directory=build, verbose=True)
    out = mod.pv_scale_add(paddle.to_tensor([1.0, 2.0, 3.0], dtype="float32"))
    result = "pv-custom-op %s" % out.numpy().tolist()
except BaseException as exc:
    failed = "%s: %s" % (type(exc).__name__, exc)
sys.stdout.flush()
sys.stderr.flush()
os.dup2(saved[0], 1)
os.dup2(saved[1], 2)
if failed:
    with open(log) as fh:
        lines = [ln.rstrip() for ln in fh if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower()][:6]
    sys.stdout.write("\n".join(errors + ["--- the build's last lines (%d in all):" % len(lines)] + lines[-6:] + [failed]) + "\n")
    sys.exit(1)
sys.stdout.write("\n" + result + "\n")
"""

CUDA_SOURCE = r"""#include <cstdio>
#include <cuda_runtime.h>
__global__ void twice_plus_one(int *y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = 2 * i + 1;
}
int main() {
  const int n = 8;
  int host[n], *dev = 0;
  cudaError_t err = cudaMalloc(&dev, n * sizeof(int));
  if (err == cudaSuccess) { twice_plus_one<<<1, 32>>>(dev, n); err = cudaGetLastError(); }
  if (err == cudaSuccess) err = cudaMemcpy(host, dev, n * sizeof(int), cudaMemcpyDeviceToHost);
  if (err != cudaSuccess) { printf("pv-cuda error: %s\n", cudaGetErrorString(err)); return 1; }
  printf("pv-cuda");
  for (int i = 0; i < n; ++i) printf(" %d", host[i]);
  printf("\n");
  cudaFree(dev);
  return 0;
}
"""

EXPECTED = {
    "c": "pv-c 42",
    "cxx": "pv-cxx 55",
    "python_extension": "pv-ext 41",
    "custom_op": "pv-custom-op [3.0, 5.0, 7.0]",
    "cuda": "pv-cuda 1 3 5 7 9 11 13 15",
}


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
    if step == "custom_op":
        return [("build and run", [exe, "-c", CUSTOM_OP_SCRIPT, d], "pv_op.cc", CUSTOM_OP_SOURCE)]
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


def build_step(step, cfg, env):
    """One step: its phases in order, the first that fails ends it. Never raises for the image's faults."""
    timeout = cfg["timeout"]  # each phase's deadline
    d = tempfile.mkdtemp(prefix="pv-devel-")
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
            res = run(_niced(argv), timeout, env)
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
    """Each step as a job of its own: the builds overlap each other and the probe's other steps."""
    for step in cfg["steps"]:
        jobs.start("devel_builds." + step, build_step, step, cfg, env)


def collect_devel_builds(jobs, facts, cfg):
    """Wait for the builds (before jobs.collect, whose wait is the other steps' deadline, shorter
    than theirs) and put their results in facts["devel_builds"], by step."""
    results = {}
    for step in cfg["steps"]:
        thread, holder = jobs.started.pop("devel_builds." + step)
        thread.join(2 * cfg["timeout"] + 5)  # at most two phases, each bounded by cfg["timeout"]
        results[step] = holder.get("value", {"error": "devel build %s did not finish" % step})
    facts["devel_builds"] = results
