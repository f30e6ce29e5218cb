"""The repository's root conftest. The plugin is not loaded from here: it is installed
(``pip install -e .``, done by ``make venv``) and pytest loads it through its ``pytest11``
entry point, as it does in a user's own repository. This file only turns a checkout
without the install into a clear message instead of "unrecognized arguments: --variant"."""

from importlib.metadata import entry_points

if not any(ep.value == "paddle_verify.plugin" for ep in entry_points(group="pytest11")):
    raise RuntimeError("paddle-verify is not installed in this Python: run `make venv` (pip install -e .)")
