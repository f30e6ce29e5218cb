# Runs INSIDE the image under test, with the image's own Python, in one exec:
#     python -c "<this file>" '<json config>'
# It gathers every fact the checks need, each step under its own deadline, and
# prints one JSON line prefixed with MARKER. It must run on Python 2.7 and 3.x
# (the historical images ran Python 2), so: no f-strings, no annotations, no
# subprocess timeouts, and nothing outside the standard library.
# which(), text(), run(), python_child() and Jobs come from common.py; IMPORTS and CUDA from
# children.py, RUN_CHECK from run_check.py, secret_scan from secrets.py, installed_packages from installed.py,
# start_devel_builds and collect_devel_builds from devel.py, pip_check from pipcheck.py: all sent in front
# of this.
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
    # Where a build of an extension looks: distutils' include dir first (what `setup.py
    # build_ext` compiles with; Debian's python2.7 puts it in /usr/include/python2.7 while its
    # sysconfig says /usr/local/include/python2.7), then sysconfig's (Python 3.12+ has no distutils).
    import sysconfig
    import warnings

    dirs = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # 3.10 and 3.11 warn that distutils is deprecated
            from distutils import sysconfig as distutils_sysconfig
        dirs.append(distutils_sysconfig.get_python_inc())
    except Exception:
        pass
    dirs.append(sysconfig.get_paths().get("include") or "")
    for inc in dirs:
        if os.path.exists(os.path.join(inc, "Python.h")):
            return {"include": inc, "python_h": True}
    return {"include": dirs[0], "python_h": False}


def python_facts():
    """The Python the probe runs in (the image's `python`): its X.Y.Z and where it is."""
    return {"version": "%d.%d.%d" % tuple(sys.version_info[:3]), "executable": sys.executable}


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
        "secrets": None,
        "packages": None,
        "python": python_facts(),
        "run_check": None,
        "devel_builds": None,
        "pip_check": None,
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
    if cfg.get("run_check"):  # paddle's own install check, side by side with the imports (it imports paddle too)
        jobs.start("run_check", python_child, RUN_CHECK, {}, timeout, env)
    if cfg.get("cuda"):
        jobs.start("cuda", python_child, CUDA, cfg["cuda"], timeout, env)
    jobs.start("packages", installed_packages)
    if cfg.get("secrets"):
        jobs.start("secrets", secret_scan, cfg["secrets"])
    if cfg.get("pip_check"):
        jobs.start("pip_check", pip_check, cfg["pip_check"], env)
    if cfg.get("demo_train"):
        jobs.start("demo_train", python_child, cfg["demo_train"], {}, timeout, env)
    if cfg.get("devel"):
        dv = cfg["devel"]
        facts["devel"] = {
            "toolchain": dict((name, run(argv, timeout, env)) for name, argv in dv["toolchain"]),
            "headers": python_headers(),
            "sources": source_facts(dv["source_dirs"], dv["source_markers"]),
        }
    if cfg.get("devel_builds"):
        start_devel_builds(jobs, cfg["devel_builds"], env)
        collect_devel_builds(jobs, facts, cfg["devel_builds"])
    jobs.collect(facts, timeout)
    facts["oom_kills"] = oom_kills()
    sys.stdout.write("\n" + MARKER + json.dumps(facts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
