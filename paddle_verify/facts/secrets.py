"""What counts as a secret in an image's settings, and how a finding is shown without it.

The rules are :mod:`.values`' (a secret is judged by its value: a known format, or a
high-entropy value under a secret's name; a name alone is nothing). Here they are applied to
the image's ``ENV`` (``Config.Env`` of ``docker image inspect``), its ``docker history``
(``CreatedBy`` lines) and the SSH image's history, with the manifest's accepted findings
(``[secrets] allow``) set apart. A finding names the variable, the file or the line with every
value replaced by ``***``, and the rule: never the secret itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from . import values
from .schema import SecretFile

HIDDEN = "***"
SECRET_NAME = values.SECRET_NAME


@dataclass
class Findings:
    """What breaks a rule (``where: rule``) and what the manifest accepts (``where: reason``)."""

    found: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)


def is_secret(name: str, value: str) -> bool:
    """Whether a report must hide the value of ``name=value``: a secret by its value, or any value
    under a secret's name but a boolean, a number, a path or a URL without a password (hiding errs
    on the safe side; judging does not)."""
    v = value.strip()
    if not v:
        return False
    if values.variable_rule(name, v) is not None:
        return True
    shown = v.lower() in values.BOOLEAN or values.NUMBER.match(v) or values.PATH.match(v)
    return bool(SECRET_NAME.search(name)) and not (shown or ("://" in v and "@" not in v))


def secret_variables(env: Mapping[str, str]) -> list[str]:
    """The names of the variables of ``env`` that hold a secret by its value."""
    return list(values.env_findings(dict(env)))


def env_findings(env: Mapping[str, str], allow: Mapping[str, str]) -> Findings:
    """The ENV's secrets: ``NAME (rule)``; those of a name in ``allow`` accepted, with the reason."""
    out = Findings()
    for name, rule in values.env_findings(dict(env)).items():
        if name in allow:
            out.accepted.append(f"ENV {name} ({rule}): {allow[name]}")
        else:
            out.found.append(f"{name} ({rule})")
    return out


def history_findings(created_by: Iterable[str], allow: Mapping[str, str], limit: int = 160) -> Findings:
    """The history lines that show a secret, its value hidden, with the rules; a line whose every
    finding is of a variable in ``allow`` is accepted."""
    out = Findings()
    for line in created_by:
        found, redacted = values.line_findings(line.strip())
        if not found:
            continue
        shown = f"{redacted[:limit]} [{', '.join(sorted({r for r, _ in found}))}]"
        names = [n for _, n in found]
        if all(n is not None and n in allow for n in names):
            reasons = dict.fromkeys(allow[n] for n in names if n)
            out.accepted.append(f"history {shown}: {'; '.join(reasons)}")
        else:
            out.found.append(shown)
    return out


def history_secrets(created_by: Iterable[str], limit: int = 160) -> list[str]:
    """The ``docker history`` lines that show a secret, its value hidden, with the rules."""
    return history_findings(created_by, {}, limit).found


def redact(line: str) -> str:
    """``line`` with the value of every secret in it replaced by ``***``."""
    return values.line_findings(line)[1]


def parse_env(config_env: Iterable[str] | None) -> dict[str, str]:
    """``Config.Env`` (``["NAME=value", ...]``) as a mapping; a bare ``NAME`` is an empty value."""
    out: dict[str, str] = {}
    for item in config_env or ():
        name, _, value = item.partition("=")
        out[name] = value
    return out


def file_findings(findings: Iterable[SecretFile], allow: Mapping[str, str]) -> Findings:
    """The probe's files (``path holds what``); a path in ``allow``, or under an allowed folder
    (``/etc/ssl/private/``), accepted."""
    out = Findings()
    for f in findings:
        path, what = f["path"], f["what"]
        reason = allow.get(path) or next((r for p, r in allow.items() if p.endswith("/") and path.startswith(p)), None)
        if reason:
            out.accepted.append(f"{path} ({what}): {reason}")
        else:
            out.found.append(f"{path} holds {what}")
    return out
