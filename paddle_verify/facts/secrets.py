"""What counts as a secret in an image's settings, and how a finding is shown without it.

Owns the one rule for a credential written into a setting: ``NAME=value`` where the name
says password, passphrase, secret, token or API key and the value is there (not empty, not
a ``$reference``), or a literal ``root:...`` fed to ``chpasswd``. The same rule reads the
image's ``ENV`` (``Config.Env`` of ``docker image inspect``), its ``docker history``
(``CreatedBy`` lines) and the SSH image's history. A finding names the variable or shows
the line with every value replaced by ``***``: never the secret itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

SECRET_WORDS = r"password|passwd|passphrase|secret|token|api_?key"
SECRET_IN_HISTORY = re.compile(
    rf"(?i)(?P<name>\b\w*(?:{SECRET_WORDS})\w*=)(?![\s$]|$)\S+|(?P<user>\broot:)(?!\$)[^\s|;&'\"]+"
)
SECRET_NAME = re.compile(rf"(?i){SECRET_WORDS}")
REFERENCE_NAME = re.compile(r"(?i)_(?:FILE|PATH|DIR)$")
HIDDEN = "***"


def redact(line: str) -> str:
    """``line`` with the value of every credential in it replaced by ``***``."""
    return SECRET_IN_HISTORY.sub(lambda m: (m.group("name") or m.group("user")) + HIDDEN, line)


def is_secret(name: str, value: str) -> bool:
    """Whether the variable ``name=value`` holds a credential: a value under a secret's name.

    A name ending in ``_FILE``, ``_PATH`` or ``_DIR`` points at a secret (``PASSWORD_FILE``):
    it is not one.
    """
    return bool(SECRET_NAME.search(name) and value.strip() and not REFERENCE_NAME.search(name))


def secret_variables(env: Mapping[str, str]) -> list[str]:
    """The names of the variables of ``env`` that hold a credential."""
    return [name for name, value in env.items() if is_secret(name, value)]


def history_secrets(created_by: Iterable[str], limit: int = 160) -> list[str]:
    """The ``docker history`` lines that show a credential, its value hidden."""
    return [redact(line.strip())[:limit] for line in created_by if SECRET_IN_HISTORY.search(line)]


def parse_env(config_env: Iterable[str] | None) -> dict[str, str]:
    """``Config.Env`` (``["NAME=value", ...]``) as a mapping; a bare ``NAME`` is an empty value."""
    out: dict[str, str] = {}
    for item in config_env or ():
        name, _, value = item.partition("=")
        out[name] = value
    return out
