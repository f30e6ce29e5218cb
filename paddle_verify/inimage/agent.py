# The benchmark agent: runs in the image's Python, once in the container and
# once on bare metal (chroot into the image's own files), and answers one JSON
# request per line on stdin with one JSON line on stdout:
#   {"op": "context"}                      -> what explains a gap (seccomp, SSBD, quota, cpuset)
#   {"op": "prepare", "workload": W}       -> imports and warms up W (not timed)
#   {"op": "round", "workload": W, "n": N} -> {"seconds": S, "cpu": C}: N units of W, timed here
#                                             (wall and this process's CPU time)
#   {"op": "sustain", "workload": W, "n": N, "seconds": T, "warm": U} -> {"wall": ..., "cpu": ...}
#   {"op": "import", "module": M}          -> {"import": S, "process": P}: a fresh Python here, the
#                                             seconds of its `import M` and of the whole process
# Only the workload is timed: not the process start, not the exec, not the pipe.
import gc
import glob
import json
import os
import resource
import subprocess
import sys
import time

STATE = {}


def _read(path):
    try:
        with open(path) as fh:
            return fh.read().strip()
    except OSError:
        return None


def context():
    status = _read("/proc/self/status") or ""
    fields = {}
    for line in status.splitlines():
        key, _, value = line.partition(":")
        if key in ("Seccomp", "Seccomp_filters", "Speculation_Store_Bypass", "Cpus_allowed_list", "NoNewPrivs"):
            fields[key] = value.strip()
    cgroup = "/"
    for line in (_read("/proc/self/cgroup") or "").splitlines():
        if line.startswith("0::"):
            cgroup = line[3:] or "/"
    base = "/sys/fs/cgroup" + (cgroup if cgroup != "/" else "")
    cpu_max = _read(base + "/cpu.max") or _read("/sys/fs/cgroup/cpu.max")
    if cpu_max is None:  # cgroup v1
        quota = _read("/sys/fs/cgroup/cpu/cpu.cfs_quota_us")
        period = _read("/sys/fs/cgroup/cpu/cpu.cfs_period_us")
        cpu_max = "%s %s" % (quota, period) if quota else None
    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "seccomp": fields.get("Seccomp"),
        "speculation_store_bypass": fields.get("Speculation_Store_Bypass"),
        "no_new_privs": fields.get("NoNewPrivs"),
        "cpus_allowed": fields.get("Cpus_allowed_list"),
        "cgroup": cgroup,
        "cpu_max": cpu_max,
        "cpuset": _read(base + "/cpuset.cpus.effective") or _read("/sys/fs/cgroup/cpuset.cpus.effective"),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "in_container": os.path.exists("/.dockerenv"),
        "gpu_nodes": sorted(glob.glob("/dev/nvidia[0-9]*")),
        "libcuda": sorted(
            set(
                p
                for d in (os.environ.get("LD_LIBRARY_PATH") or "").split(":")
                + ["/usr/lib64", "/usr/lib/x86_64-linux-gnu"]
                if d
                for p in glob.glob(d + "/libcuda.so*")
            )
        ),
    }


def interp(n):
    # Pure interpreter work: what seccomp/SSBD slows.
    total = 0
    for i in range(n * 20000):
        total += (i * i) % 7
    return total


def _paddle():
    if "paddle" not in STATE:
        import paddle

        paddle.set_device("cpu")
        paddle.seed(0)
        STATE["paddle"] = paddle
    return STATE["paddle"]


def matmul(n):
    paddle = _paddle()
    if "a" not in STATE:
        STATE["a"] = paddle.rand([256, 256], dtype="float32")
    a = STATE["a"]
    for _ in range(n):
        c = paddle.matmul(a, a)
    return float(c[0, 0].numpy())


def train(n):
    paddle = _paddle()
    if "model" not in STATE:
        STATE["model"] = paddle.nn.Sequential(paddle.nn.Linear(64, 128), paddle.nn.ReLU(), paddle.nn.Linear(128, 10))
        STATE["opt"] = paddle.optimizer.SGD(learning_rate=0.01, parameters=STATE["model"].parameters())
        STATE["x"] = paddle.rand([64, 64], dtype="float32")
        STATE["y"] = paddle.randint(0, 10, [64, 1])
    model, opt = STATE["model"], STATE["opt"]
    for _ in range(n):
        loss = paddle.nn.functional.cross_entropy(model(STATE["x"]), STATE["y"])
        loss.backward()
        opt.step()
        opt.clear_grad()
    return float(loss.numpy())


GPU_N = 4096  # gpu_matmul: one unit is a GPU_N x GPU_N float32 matmul, 2 * GPU_N ** 3 floating-point operations


def _paddle_gpu():
    if "paddle_gpu" not in STATE:
        import paddle

        paddle.set_device("gpu:0")
        paddle.seed(0)
        STATE["paddle_gpu"] = paddle
    return STATE["paddle_gpu"]


def gpu_matmul(n):
    paddle = _paddle_gpu()
    if "ga" not in STATE:
        STATE["ga"] = paddle.rand([GPU_N, GPU_N], dtype="float32")
    a = STATE["ga"]
    for _ in range(n):
        c = paddle.matmul(a, a)
    paddle.device.cuda.synchronize()  # the round ends when the GPU is done, not when the launch returns
    return float(c[0, 0].numpy())


def gpu_train(n):
    paddle = _paddle_gpu()
    if "gmodel" not in STATE:
        nn = paddle.nn
        STATE["gmodel"] = nn.Sequential(
            nn.Linear(1024, 4096), nn.ReLU(), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, 1000)
        )
        STATE["gopt"] = paddle.optimizer.SGD(learning_rate=0.01, parameters=STATE["gmodel"].parameters())
        STATE["gx"] = paddle.rand([256, 1024], dtype="float32")
        STATE["gy"] = paddle.randint(0, 1000, [256, 1])
    model, opt = STATE["gmodel"], STATE["gopt"]
    for _ in range(n):
        loss = paddle.nn.functional.cross_entropy(model(STATE["gx"]), STATE["gy"])
        loss.backward()
        opt.step()
        opt.clear_grad()
    paddle.device.cuda.synchronize()
    return float(loss.numpy())


WORKLOADS = {
    "interp": interp,
    "matmul": matmul,
    "train": train,
    "gpu_matmul": gpu_matmul,
    "gpu_train": gpu_train,
}


def main():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        req = json.loads(line)
        try:
            op = req["op"]
            if op == "context":
                reply = context()
            elif op == "prepare":
                WORKLOADS[req["workload"]](1)
                gc.collect()
                if hasattr(gc, "freeze"):  # what is alive now is never scanned again: cheap collections
                    gc.freeze()
                reply = {"ok": True}
            elif op == "round":
                fn, n = WORKLOADS[req["workload"]], int(req["n"])
                gc.collect()  # the collector runs between rounds, not in one of them at random
                gc.disable()
                try:
                    use0 = resource.getrusage(resource.RUSAGE_SELF)
                    start, cpu0 = time.perf_counter(), time.process_time()
                    fn(n)
                    reply = {"seconds": time.perf_counter() - start, "cpu": time.process_time() - cpu0}
                    use1 = resource.getrusage(resource.RUSAGE_SELF)  # where the time went: the kernel's part
                    reply.update(sys=use1.ru_stime - use0.ru_stime, faults=use1.ru_minflt - use0.ru_minflt)
                finally:
                    gc.enable()
            elif op == "sustain":
                # Busy for `seconds` without a pause: wall vs CPU time shows the
                # waits a CPU quota or a shared cpuset impose on sustained work.
                fn, n, seconds = WORKLOADS[req["workload"]], int(req["n"]), float(req["seconds"])
                # Untimed first: after an idle spell a quota has a whole period's budget
                # in hand; the timed part starts in the steady state.
                warm_end = time.perf_counter() + float(req.get("warm", 0))
                while time.perf_counter() < warm_end:
                    fn(n)
                wall0, cpu0 = time.perf_counter(), time.process_time()
                while time.perf_counter() - wall0 < seconds:
                    fn(n)
                reply = {"wall": time.perf_counter() - wall0, "cpu": time.process_time() - cpu0}
            elif op == "import":
                module = str(req["module"])
                if not module.replace(".", "").replace("_", "").isalnum():
                    raise ValueError("not a module name: %r" % module)
                code = "import time; t = time.perf_counter(); import %s; print(time.perf_counter() - t)" % module
                start = time.perf_counter()
                done = subprocess.run(
                    [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300
                )
                process = time.perf_counter() - start
                if done.returncode != 0:
                    raise RuntimeError("import %s: %s" % (module, done.stderr.decode(errors="replace")[-300:]))
                reply = {"import": float(done.stdout), "process": process}
            elif op == "quit":
                break
            else:
                reply = {"error": "unknown op %r" % op}
        except Exception as exc:  # reported to the host, which fails the benchmark with it
            reply = {"error": "%s: %s" % (type(exc).__name__, exc)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
