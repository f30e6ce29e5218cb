# The devel builds' sources and what each must print (devel.py builds them): a C and a C++ program,
# a Python C extension, a paddle custom operator and the script that builds it with
# paddle.utils.cpp_extension (run in the imports' interpreter, after them: probe.py), a CUDA program.
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py); sent in front of devel.py.
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

# The operator's API: paddle/phi/api/all.h, what paddle/extension.h includes for operators, where the
# paddle has it (2.3 and later); extension.h itself otherwise. Under C++17 extension.h also includes
# the PIR pass headers (custom passes, not operators; they bring pybind11 and Python.h): 3 s more of
# one core for 3.3.1's cpu-devel (cpp_extension.load 2.8 s against 5.8 s, three runs each, side by
# side). Python.h itself is judged by test_python_headers and the Python extension's build.
CUSTOM_OP_SOURCE = r"""#if defined(__has_include)
#if __has_include("paddle/phi/api/all.h")
#define CUSTOM_OP_WITH_SPMD
#define PV_OP_API "paddle/phi/api/all.h"
#endif
#endif
#ifndef PV_OP_API
#define PV_OP_API "paddle/extension.h"
#endif
#include PV_OP_API
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
import json, os, sys
d = json.loads(sys.argv[1])["custom_op_dir"]
if hasattr(os, "nice"):  # the last of its interpreter's scripts: the build runs at a low priority (see _niced)
    os.nice(15)
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
    if hasattr(paddle, "in_dynamic_mode") and not paddle.in_dynamic_mode():
        # The mode the op runs in, whatever a script before it in this interpreter left: run_check
        # stays in static mode when its static run raises.
        paddle.disable_static()
    build = os.path.join(d, "build")
    os.mkdir(build)
    # -O0 -g0 after the build's own -O2 -g: the same proof (paddle's headers compile, libpaddle links,
    # the op runs) with less of a core (~5 s instead of ~8 with extension.h, measured side by side).
    mod = cpp_extension.load(name="pv_custom_op", sources=[os.path.join(d, "pv_op.cc")],
                             build_directory=build, extra_cxx_cflags=["-O0", "-g0"], verbose=True)
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
