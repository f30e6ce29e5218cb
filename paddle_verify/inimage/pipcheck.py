# `python -m pip check` in the image's own Python, for probe.py (pip_check). Sent in front of probe.py;
# Python 2.7 and 3.x, standard library only (see the rule in __init__.py); any pip of any era.
import sys


def has_pip():
    """Whether the image's Python has a pip module, looked up without importing it (cheap)."""
    try:
        import importlib.util

        return importlib.util.find_spec("pip") is not None
    except ImportError:  # Python 2.7
        import imp

        try:
            imp.find_module("pip")
            return True
        except ImportError:
            return False


def pip_check(cfg, env):
    """``python -m pip check``: its run, or why it was not run."""
    if not has_pip():
        return {"ran": False, "why": "no pip in the image (%s has no pip module)" % sys.executable}
    quiet = dict(env)
    quiet.update({"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INPUT": "1", "PYTHONWARNINGS": "ignore"})
    return {"ran": True, "result": run([sys.executable, "-m", "pip", "check"], cfg["timeout"], quiet)}
