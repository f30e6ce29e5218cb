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
import re
import stat
import sys
import time

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


# --- secrets: a bounded walk of the places a credential is left in ------------------------
# A finding names the file and what it holds, never its content.
SSH_KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity")
PEM_PRIVATE_KEY = re.compile(b"(?m)^-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
GCLOUD_FILES = ("credentials.db", "access_tokens.db", "application_default_credentials.json", "adc.json")
READ_LIMIT = 65536  # a private key is a few KiB; bigger files are not read
# Installed packages are their projects' files, not the image's: the test keys of Python's own
# test suite or of a package (.../test/certdata/keycert.pem) are no one's credentials.
PACKAGE_TREE = re.compile(r"^(site-packages|dist-packages|node_modules|python[0-9.]+)$")


def _home_dirs():
    """The home directories of the image's regular users (uid 0 and >= 1000) from /etc/passwd."""
    homes = []
    try:
        import pwd

        for entry in pwd.getpwall():
            if (entry.pw_uid == 0 or 1000 <= entry.pw_uid < 65534) and entry.pw_dir not in ("", "/"):
                homes.append(entry.pw_dir)
    except (ImportError, KeyError, OSError):
        pass
    return homes


def _read_head(path):
    fh = open(path, "rb")
    try:
        return fh.read(READ_LIMIT)
    finally:
        fh.close()


def _docker_auths(data):
    """The registries a ~/.docker/config.json holds credentials for."""
    try:
        auths = json.loads(data.decode("utf-8", "replace")).get("auths") or {}
    except (ValueError, AttributeError):
        return []
    found = []
    for registry, entry in sorted(auths.items()):
        if isinstance(entry, dict) and any(
            entry.get(k) for k in ("auth", "password", "identitytoken", "registrytoken")
        ):
            found.append(registry)
    return found


def secret_in(path, size):
    """What credential the file at ``path`` holds (a short description), or None."""
    name = os.path.basename(path)
    parent = os.path.basename(os.path.dirname(path))
    data = None
    if 0 < size <= READ_LIMIT:
        try:
            data = _read_head(path)
        except (IOError, OSError):
            data = None
    if size == 0:
        return None
    if data is not None and PEM_PRIVATE_KEY.search(data):
        return "a private key (PEM 'PRIVATE KEY' header)"
    if name in SSH_KEY_NAMES:
        return "an SSH private key file (by its name)"
    if name in (".netrc", "_netrc"):
        return "netrc login credentials"
    if name == ".git-credentials":
        return "git credentials"
    if parent == ".aws" and (name == "credentials" or (data is not None and b"aws_secret_access_key" in data)):
        return "AWS credentials"
    if name == "config.json" and parent == ".docker" and data is not None:
        registries = _docker_auths(data)
        if registries:
            return "registry credentials (auths: %s)" % ", ".join(registries)
    if "/.config/gcloud/" in path and (name in GCLOUD_FILES or "/legacy_credentials/" in path):
        return "gcloud credentials"
    return None


def secret_scan(cfg):
    """Walk ``cfg["roots"]`` and the users' homes (``passwd_homes``), each to ``max_depth``, at most ``max_files``
    files, until ``seconds`` have passed; a walk cut short says why (``truncated``)."""
    deadline = time.time() + cfg["seconds"]
    out = {"roots": [], "findings": [], "files": 0, "truncated": None}
    roots = []
    for root in list(cfg["roots"]) + (_home_dirs() if cfg["passwd_homes"] else []):
        root = os.path.normpath(root)
        if root == "/" or root in roots or not os.path.isdir(root):
            continue
        roots.append(root)
    # a root inside another (a workdir under /opt, a home under /home) is walked with it
    roots = [r for r in roots if not any(r.startswith(o + "/") for o in roots)]
    out["roots"] = roots
    for root in roots:
        base = root.rstrip("/").count("/")
        for dirpath, dirnames, filenames in os.walk(root):
            if dirpath.count("/") - base >= cfg["max_depth"]:
                dirnames[:] = []
            dirnames[:] = [d for d in dirnames if not PACKAGE_TREE.match(d)]
            for name in filenames:
                if out["files"] >= cfg["max_files"]:
                    out["truncated"] = "stopped after %d files" % cfg["max_files"]
                    return out
                if time.time() > deadline:
                    out["truncated"] = "stopped at its deadline (%ss) after %d files" % (cfg["seconds"], out["files"])
                    return out
                path = os.path.join(dirpath, name)
                try:
                    st = os.lstat(path)
                except OSError:
                    continue
                if not stat.S_ISREG(st.st_mode):
                    continue  # links, sockets and FIFOs are not read (a FIFO would block)
                out["files"] += 1
                what = secret_in(path, st.st_size)
                if what:
                    out["findings"].append({"path": path, "what": what})
    return out


# --- what is installed: read from the package managers' own records, no subprocess ------


def python_packages():
    """``pip list`` of the image's Python: name and version of every distribution on its
    ``sys.path``, read from the ``*.dist-info/METADATA`` and ``*.egg-info/PKG-INFO`` files pip
    reads (without pip's start-up: a few milliseconds)."""
    found = {}
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        try:
            names = os.listdir(entry)
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                meta = os.path.join(entry, name, "METADATA")
            elif name.endswith(".egg-info"):
                meta = os.path.join(entry, name, "PKG-INFO")
                if not os.path.isdir(os.path.join(entry, name)):
                    meta = os.path.join(entry, name)  # an egg-info file of distutils
            else:
                continue
            fields = _metadata(meta)
            dist, version = fields.get("name"), fields.get("version")
            if dist and version and dist.lower() not in found:  # the first on sys.path wins, as for pip
                found[dist.lower()] = {"name": dist, "version": version}
    return dict((v["name"], v["version"]) for v in found.values())


def _metadata(path):
    fields = {}
    try:
        fh = open(path, "rb")
    except (IOError, OSError):
        return fields
    try:
        for raw in fh:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                break  # the headers end at the first empty line
            key, sep, value = line.partition(":")
            if sep and key.lower() in ("name", "version"):
                fields.setdefault(key.lower(), value.strip())
            if len(fields) == 2:
                break
    finally:
        fh.close()
    return fields


def debian_packages(status="/var/lib/dpkg/status"):
    """``dpkg-query -W``: every installed Debian package and its version (None: not a dpkg system)."""
    try:
        fh = open(status, "rb")
    except (IOError, OSError):
        return None
    found = {}
    try:
        stanza = {}
        for raw in list(fh) + [b"\n"]:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if not line.strip():
                if stanza.get("status", "").endswith(" installed") and stanza.get("package"):
                    name = stanza["package"]
                    if stanza.get("architecture") not in (None, "all", "") and name in found:
                        name = "%s:%s" % (name, stanza["architecture"])
                    found[name] = stanza.get("version", "")
                stanza = {}
            elif not line.startswith((" ", "\t")):
                key, _sep, value = line.partition(":")
                stanza[key.lower()] = value.strip()
    finally:
        fh.close()
    return found


def installed_packages():
    return {"python": python_packages(), "debian": debian_packages()}


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
        "secrets": None,
        "packages": None,
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
    jobs.start("packages", installed_packages)
    if cfg.get("secrets"):
        jobs.start("secrets", secret_scan, cfg["secrets"])
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
