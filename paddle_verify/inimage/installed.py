# What is installed in the image, for facts.json (installed_packages). Sent in front of probe.py;
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py).
import os
import sys

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


def debian_packages(status="/var/lib/dpkg/status", arches=None):
    """``dpkg-query -W``: every installed Debian package and its version (None: not a dpkg system).
    ``arches``, when given, is filled with each package's architecture (``amd64``, ``all``)."""
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
                    if arches is not None:
                        arches[name] = stanza.get("architecture", "")
                stanza = {}
            elif not line.startswith((" ", "\t")):
                key, _sep, value = line.partition(":")
                stanza[key.lower()] = value.strip()
    finally:
        fh.close()
    return found


def os_release(paths=("/etc/os-release", "/usr/lib/os-release")):
    """The distribution (``/etc/os-release``: ID, VERSION_ID, VERSION_CODENAME, PRETTY_NAME), or None."""
    for path in paths:
        try:
            fh = open(path, "rb")
        except (IOError, OSError):
            continue
        found = {}
        try:
            for raw in fh:
                key, sep, value = raw.decode("utf-8", "replace").strip().partition("=")
                if sep and key in ("ID", "VERSION_ID", "VERSION_CODENAME", "PRETTY_NAME"):
                    found[key] = value.strip().strip("\"'")
        finally:
            fh.close()
        return found
    return None


def installed_packages():
    arches = {}
    debian = debian_packages(arches=arches)
    return {
        "python": python_packages(),
        "debian": debian,
        "debian_arch": arches if debian is not None else None,
        "os_release": os_release(),
    }
