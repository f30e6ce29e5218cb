# Helpers shared by the scripts that run INSIDE the image under test
# (probe.py, gpu_probe.py): this text is put in front of each
# script when it is sent with `python -c`. Python 2.7 and 3.x, standard library only.
import json
import os
import subprocess
import sys
import threading
import time

OUTPUT_LIMIT = 4000


def which(name):
    if os.sep in name:
        return name if os.path.exists(name) else None
    for d in os.environ.get("PATH", "").split(os.pathsep):
        p = os.path.join(d, name)
        if os.path.exists(p) and not os.path.isdir(p):
            return p
    return None


def text(data):
    if isinstance(data, bytes):
        data = data.decode("utf-8", "replace")
    if len(data) > OUTPUT_LIMIT:
        data = data[: OUTPUT_LIMIT // 2] + "\n...[cut]...\n" + data[-OUTPUT_LIMIT // 2 :]
    return data


def run(argv, timeout, env=None, stdin_data=None):
    """Run argv with a deadline; never raises."""
    result = {"argv": argv, "rc": None, "stdout": "", "stderr": "", "error": None, "timed_out": False, "seconds": 0.0}
    start = time.time()
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=full_env, close_fds=True
        )
    except OSError as exc:
        result["error"] = "%s: %s" % (argv[0], exc.strerror or exc)
        result["seconds"] = time.time() - start
        return result
    timer = threading.Timer(timeout, _kill, [proc, result])
    timer.start()
    try:
        out, err = proc.communicate(stdin_data)
    finally:
        timer.cancel()
    result["rc"] = proc.returncode
    result["stdout"] = text(out)
    result["stderr"] = text(err)
    result["seconds"] = round(time.time() - start, 3)
    if result["timed_out"]:
        result["error"] = "%s: no answer within %ss" % (argv[0], timeout)
    return result


def _kill(proc, result):
    result["timed_out"] = True
    try:
        proc.kill()
    except OSError:
        pass


def python_child(script, arg, timeout, env):
    """Run a script in a child interpreter; its last stdout line is JSON."""
    res = run([sys.executable, "-c", script, json.dumps(arg)], timeout, env)
    res["data"] = None
    lines = [ln for ln in res["stdout"].splitlines() if ln.strip()]
    if lines:
        try:
            res["data"] = json.loads(lines[-1])
        except ValueError:
            pass
    return res


class Jobs(object):
    """Probe steps run side by side in threads; a step that raises or hangs is reported, not fatal."""

    def __init__(self, name):
        self.name = name
        self.started = {}

    def start(self, key, fn, *args):
        holder = {}

        def target():
            try:
                holder["value"] = fn(*args)
            except Exception as exc:  # a probe bug must not hide the other facts
                holder["value"] = {"error": "%s: %s: %s" % (self.name, type(exc).__name__, exc)}

        t = threading.Thread(target=target)
        t.daemon = True
        t.start()
        self.started[key] = (t, holder)

    def collect(self, facts, timeout):
        for key, (t, holder) in self.started.items():
            t.join(timeout + 5)
            facts[key] = holder.get("value", {"error": "%s: %s did not finish" % (self.name, key)})
