# Runs INSIDE the image under test, with the image's own Python, in one exec:
#     python -c "<this file>" '<json config>'
# It gathers every fact the checks need, each step under its own deadline, and
# prints one JSON line prefixed with MARKER. It must run on Python 2.7 and 3.x
# (the historical images ran Python 2), so: no f-strings, no annotations, no
# subprocess timeouts, and nothing outside the standard library.
# which(), text(), run(), python_child(), python_children(), NOT_REACHED and Jobs come from common.py; IMPORTS and CUDA from
# children.py, RUN_CHECK from run_check.py, secret_scan from secrets.py, installed_packages from installed.py,
# start_devel_builds, collect_devel_builds, build_step, custom_op_chained and custom_op_result from devel.py, pip_check from pipcheck.py: all sent in front
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
    # The imports, then paddle's own install check, the demo's training and the devel custom op, in ONE
    # interpreter: one import of paddle for all (each keeps its own output, exit and deadline: python_children).
    builds = cfg.get("devel_builds")
    op_script, op_dir = custom_op_chained(builds) if builds else (None, None)
    chain = [("imports", IMPORTS)] + ([("run_check", RUN_CHECK)] if cfg.get("run_check") else [])
    chain += [("demo_train", cfg["demo_train"])] if cfg.get("demo_train") else []
    chain += [("custom_op", op_script)] if op_script else []
    imports_cfg = {
        "packages": cfg["packages"],
        "py_paddle_init": cfg["py_paddle_init"],
        "computation": cfg["computation"],
        "custom_op_dir": op_dir,
    }
    chain_seconds = timeout * (len(chain) - (1 if op_script else 0)) + (builds["timeout"] if op_script else 0)
    jobs.start("chain", python_children, [script for _, script in chain], imports_cfg, chain_seconds, env)
    if cfg.get("cuda"):
        jobs.start("cuda", python_child, CUDA, cfg["cuda"], timeout, env)
    jobs.start("packages", installed_packages)
    if cfg.get("secrets"):
        jobs.start("secrets", secret_scan, cfg["secrets"])
    if cfg.get("pip_check"):
        jobs.start("pip_check", pip_check, cfg["pip_check"], env)
    if cfg.get("devel"):
        dv = cfg["devel"]
        facts["devel"] = {
            "toolchain": dict((name, run(argv, timeout, env)) for name, argv in dv["toolchain"]),
            "headers": python_headers(),
            "sources": source_facts(dv["source_dirs"], dv["source_markers"]),
        }
    if builds:
        start_devel_builds(jobs, builds, env)
        collect_devel_builds(jobs, facts, builds)
    thread, holder = jobs.started.pop("chain")
    thread.join(chain_seconds + 5)
    parts = holder.get("value", {"error": "probe: the imports did not finish"})
    for i, (name, script) in enumerate(chain):  # a list of results, one per script, or the job's own error
        part = parts[i] if isinstance(parts, list) else parts
        if part.get("rc") is None and str(part.get("error")).startswith(NOT_REACHED):
            # The script before it ended the interpreter (a crash is that script's finding): this one
            # is judged on its own, in a child of its own, as if it had never shared one.
            part = None if name == "custom_op" else python_child(script, imports_cfg, timeout, env)
        if name == "custom_op":
            done = custom_op_result(builds, env, op_dir, part) if part else build_step(name, builds, env, d=op_dir)
            facts["devel_builds"]["custom_op"] = done
        else:
            facts[name] = part
    jobs.collect(facts, timeout)
    facts["oom_kills"] = oom_kills()
    sys.stdout.write("\n" + MARKER + json.dumps(facts) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
