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


def run(argv, timeout, env=None, stdin_data=None, cut=text):
    """Run argv with a deadline; never raises. ``cut`` bounds what is kept of each output."""
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
    result["stdout"] = cut(out)
    result["stderr"] = cut(err)
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
    res["data"] = _last_json(res["stdout"])
    return res


# The line python_children's glue prints on stdout and on stderr between two scripts, with the time.
NEXT_CHILD = "PADDLE_VERIFY_NEXT_CHILD"
NOT_REACHED = "not run:"  # the error of a script python_children never reached
NEXT_CHILD_GLUE = (
    "\nimport sys as _pv_sys, time as _pv_time\n"
    "_pv_sys.stdout.flush(); _pv_sys.stderr.flush()\n"
    "_pv_sys.stdout.write('\\n%s %r\\n' % (" + repr(NEXT_CHILD) + ", _pv_time.time())); _pv_sys.stdout.flush()\n"
    "_pv_sys.stderr.write('\\n%s\\n' % " + repr(NEXT_CHILD) + "); _pv_sys.stderr.flush()\n"
)


def python_children(scripts, arg, timeout, env):
    """Scripts run one after another in ONE child interpreter (one ``import paddle`` for all of
    them instead of one each), each result what python_child gives for the script alone: its
    part of stdout and stderr (cut at the line the glue prints between two scripts) and its own
    JSON line. The child's exit code, deadline and error are the last script it reached; a
    script it never reached (the one before crashed, hung or exited) says so."""
    started = time.time()
    res = run([sys.executable, "-c", NEXT_CHILD_GLUE.join(scripts), json.dumps(arg)], timeout, env, cut=_decoded)
    outs = res["stdout"].split("\n" + NEXT_CHILD + " ")
    errs = res["stderr"].split("\n" + NEXT_CHILD + "\n")
    marks = [started]
    for i in range(1, len(outs)):  # each part after a mark starts with the mark's time
        stamp, _, rest = outs[i].partition("\n")
        marks.append(float(stamp))
        outs[i] = rest
    ended = started + res["seconds"]
    results = []
    for i in range(len(scripts)):
        if i >= len(outs):
            why = NOT_REACHED + " the child interpreter ended in the script before it"
            results.append(dict(res, rc=None, stdout="", stderr="", error=why, seconds=0.0, data=None))
            continue
        last = i == len(outs) - 1
        part = dict(res, stdout=text(outs[i]), stderr=text(errs[i] if i < len(errs) else ""))
        if not last:  # it ended and the next one started: it exited well, in time
            part.update(rc=0, error=None, timed_out=False)
        part["seconds"] = round((ended if last else marks[i + 1]) - marks[i], 3)
        part["data"] = _last_json(part["stdout"])
        results.append(part)
    return results


def _decoded(data):
    return data.decode("utf-8", "replace") if isinstance(data, bytes) else data


def _last_json(stdout):
    lines = [ln for ln in stdout.splitlines() if ln.strip()]
    if lines:
        try:
            return json.loads(lines[-1])
        except ValueError:
            pass
    return None


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
