# The probe's bounded walk for credentials left in files (secret_scan). Sent in front of probe.py;
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py).
import os
import re
import stat
import time

# --- secrets: a bounded walk of the places a credential is left in ------------------------
# A finding names the file and what it holds, never its content.
SSH_KEY_NAMES = ("id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", "id_ecdsa_sk", "id_ed25519_sk", "identity")
PEM_PRIVATE_KEY = re.compile(b"(?m)^-----BEGIN [A-Z0-9 ]*PRIVATE KEY( BLOCK)?-----")
GCLOUD_FILES = ("credentials.db", "access_tokens.db", "application_default_credentials.json", "adc.json")
READ_LIMIT = 65536  # a private key is a few KiB; bigger files are not read
# Installed packages are their projects' files, not the image's: the test keys of Python's own
# test suite or of a package (.../test/certdata/keycert.pem) are no one's credentials.
PACKAGE_TREE = re.compile(r"^(site-packages|dist-packages|node_modules|python[0-9.]+)$")
# A text file that may hold a secret by its value: a known token's prefix, a password in a URL or
# a secret's name set to something. Only its path leaves the image in the probe's answer; the host
# reads it through the engine and judges it (paddle_verify/facts/values.py).
CANDIDATE = re.compile(
    b"gh[pousr]_[A-Za-z0-9_]{30}|github_pat_|glpat-|xox[abposr]-|(A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}"
    b"|hf_[A-Za-z0-9]{30}|eyJ[A-Za-z0-9_-]{10,}\\.|sk-[A-Za-z0-9]{20}|npm_[A-Za-z0-9]{30}|pypi-Ag"
    b"|://[^/\\s:@]+:[^/\\s:@]+@"
    b"|(password|passwd|secret|token|api_?key|access_?key)[A-Za-z0-9_.-]*[\"']?[ \\t]*[:=][ \\t]*[\"']?[^\\s\"'$]",
    re.I,  # a filter, not the judge: a few more candidates are harmless (Python 2.7: no (?i:...))
)
MAX_CANDIDATES = 50


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


def read_small(path, size):
    """The bytes of a file of at most READ_LIMIT bytes, else None."""
    if 0 < size <= READ_LIMIT:
        try:
            return _read_head(path)
        except (IOError, OSError):
            return None
    return None


def is_candidate(data):
    """Whether a file's bytes may hold a secret by its value (a text file matching CANDIDATE)."""
    return data is not None and b"\0" not in data and CANDIDATE.search(data) is not None


def secret_in(path, size, data=None):
    """What credential the file at ``path`` holds (a short description), or None."""
    name = os.path.basename(path)
    parent = os.path.basename(os.path.dirname(path))
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
    out = {"roots": [], "findings": [], "candidates": [], "files": 0, "truncated": None}
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
                data = read_small(path, st.st_size)
                what = secret_in(path, st.st_size, data)
                if what:
                    out["findings"].append({"path": path, "what": what})
                elif len(out["candidates"]) < MAX_CANDIDATES and is_candidate(data):
                    out["candidates"].append(path)
    return out
