"""Secrets judged by their value: the rules, run on the host over ENV values, history lines and
the text of candidate files, each finding named by its rule and never by the value.

Known formats come from detect-secrets (1.5.0) used as a library: its regex plugins (AWS keys,
GitHub, GitLab, Slack, PyPI, npm, OpenAI, Stripe ... tokens, private keys, JSON Web Tokens,
passwords in URLs) and its heuristic filters (templates, ``$references``, sequences, UUIDs);
a Hugging Face token (``hf_`` + 34 or more letters and digits), which detect-secrets lacks, is
our own regex. Its plugins are called directly (``analyze_string``), not through its global
settings, so that the session's threads can scan at once. A value under a secret's name
(password, token, key ...) is a finding only when it looks like one: not empty, not a boolean,
a number, a path, a ``$reference`` or a template, and of high entropy (:func:`high_entropy`).
A name alone is never a finding: ``TOKENIZERS_PARALLELISM=false`` passes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from typing import Any

from detect_secrets.filters import heuristic
from detect_secrets.plugins import (
    artifactory,
    aws,
    azure_storage_key,
    basic_auth,
    discord,
    github_token,
    gitlab_token,
    jwt,
    mailchimp,
    npm,
    openai,
    private_key,
    pypi_token,
    sendgrid,
    slack,
    square_oauth,
    stripe,
    telegram_token,
    twilio,
)
from detect_secrets.plugins.base import RegexBasedDetector

# Our own rule where detect-secrets has none.
HF_TOKEN = re.compile(r"(?<![A-Za-z0-9_])hf_[A-Za-z0-9]{34,}(?![A-Za-z0-9])")

# The known formats, by the name a finding shows.
FORMATS: tuple[tuple[str, Any], ...] = (
    ("AWS access key", aws.AWSKeyDetector()),
    ("GitHub token", github_token.GitHubTokenDetector()),
    ("GitLab token", gitlab_token.GitLabTokenDetector()),
    ("Slack token", slack.SlackDetector()),
    ("private key", private_key.PrivateKeyDetector()),
    ("JSON Web Token", jwt.JwtTokenDetector()),
    ("password in a URL", basic_auth.BasicAuthDetector()),
    ("PyPI token", pypi_token.PypiTokenDetector()),
    ("npm token", npm.NpmDetector()),
    ("OpenAI key", openai.OpenAIDetector()),
    ("Stripe key", stripe.StripeDetector()),
    ("Twilio key", twilio.TwilioKeyDetector()),
    ("SendGrid key", sendgrid.SendGridDetector()),
    ("Mailchimp key", mailchimp.MailchimpDetector()),
    ("Discord bot token", discord.DiscordBotTokenDetector()),
    ("Telegram bot token", telegram_token.TelegramBotTokenDetector()),
    ("Square OAuth secret", square_oauth.SquareOAuthDetector()),
    ("Artifactory credentials", artifactory.ArtifactoryDetector()),
    ("Azure storage key", azure_storage_key.AzureStorageKeyDetector()),
)
HF_RULE = "Hugging Face token"

# The names that say a value is a secret (detect-secrets' keyword list, shortened to its stems).
SECRET_NAME = re.compile(
    r"(?i)(password|passwd|passphrase|pwd|secret|token|api_?key|auth_?key|access_?key|private_?key|credential)"
)
BOOLEAN = {"true", "false", "yes", "no", "on", "off", "none", "null", "nil", "enabled", "disabled", "0", "1"}
NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?[kKmMgG]?$")
PATH = re.compile(r"^(/|\./|\.\./|~/|file://)")
ASSIGNMENT = re.compile(r"""(?<![\w$])(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>"[^"]*"|'[^']*'|[^\s;&|'"]*)""")
CHPASSWD = re.compile(r"""\b\w+:(?P<value>(?!\$)[^\s|;&'"]+)['"]?\s*\|\s*chpasswd""")


def _clean(value: str) -> bool:
    """detect-secrets' heuristic filters: a template, a ``$reference``, a sequence, a UUID."""
    return not (
        heuristic.is_templated_secret(value)
        or heuristic.is_prefixed_with_dollar_sign(value)
        or heuristic.is_sequential_string(value)
        or heuristic.is_potential_uuid(value)
    )


def formats_in(text: str) -> Iterator[tuple[str, str]]:
    """``(rule, value)`` for each known format in ``text`` (the value is for redaction only)."""
    for rule, plugin in FORMATS:
        detector: RegexBasedDetector = plugin
        for regex in detector.denylist:
            for m in regex.finditer(text):
                # the whole match is what a report must hide (a plugin's findall may give a group);
                # the plugin's own analysis of it decides (a JWT must decode, ...)
                found = m.group(0)
                if found and any(detector.analyze_string(found)) and _clean(found):
                    yield rule, found
    for m in HF_TOKEN.finditer(text):
        if _clean(m.group(0)):
            yield HF_RULE, m.group(0)


def entropy(value: str) -> float:
    """Shannon entropy of ``value``, in bits per character."""
    if not value:
        return 0.0
    counts = {c: value.count(c) for c in set(value)}
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def high_entropy(value: str) -> bool:
    """Whether ``value`` looks like a secret rather than a setting: at least 6 characters, at least
    2.4 bits of entropy per character, and two of lower case, upper case and digits, or 16
    characters or more. ``hunter2`` is one; ``12``, ``false``, ``bearer``, ``pass:insta`` are not."""
    kinds = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d"))
    return len(value) >= 6 and entropy(value) >= 2.4 and (kinds >= 2 or len(value) >= 16)


def plain_setting(value: str) -> bool:
    """A value no one would call a secret: a boolean, a number, a path, a URL without a password."""
    v = value.strip().strip("'\"")
    return (
        v.lower() in BOOLEAN
        or bool(NUMBER.match(v))
        or bool(PATH.match(v))
        or (("://" in v) and "@" not in v)
        or not _clean(v)
    )


def variable_rule(name: str, value: str) -> tuple[str, str] | None:
    """The rule ``name=value`` breaks, with the value to hide, or None."""
    for rule, found in formats_in(value):
        return rule, found
    keyword = SECRET_NAME.search(name)
    v = value.strip().strip("'\"")
    if keyword and v and not plain_setting(v) and high_entropy(v):
        return f"high-entropy value of a variable named *{keyword.group(1).upper()}*", v
    return None


def env_findings(env: dict[str, str]) -> dict[str, str]:
    """The variables of ``env`` that hold a secret, each with its rule (never the value)."""
    out: dict[str, str] = {}
    for name, value in env.items():
        hit = variable_rule(name, value)
        if hit:
            out[name] = hit[0]
    return out


def line_findings(line: str) -> tuple[list[tuple[str, str | None]], str]:
    """The rules a shell or history line breaks, each with the variable it sets (or None), and
    the line with every such value hidden."""
    found: list[tuple[str, str | None]] = []
    hidden: list[str] = []
    for m in ASSIGNMENT.finditer(line):
        hit = variable_rule(m.group("name"), m.group("value"))
        if hit:
            found.append((hit[0], m.group("name")))
            hidden.append(hit[1])
    for rule, value in formats_in(line):
        if not any(value in h or h in value for h in hidden):
            found.append((rule, None))
            hidden.append(value)
    if CHPASSWD.search(line):
        found.append(("a password fed to chpasswd", None))
        # by its place: the value may be a word the line holds elsewhere too (root:root)
        line = CHPASSWD.sub(lambda m: m.group(0).replace(":" + m.group("value"), ":***", 1), line)
    return list(dict.fromkeys(found)), redact(line, hidden)


def redact(text: str, values: Iterable[str]) -> str:
    """``text`` with each of ``values`` replaced by ``***`` (the longest first)."""
    for value in sorted(set(values), key=len, reverse=True):
        if value:
            text = text.replace(value, "***")
    return text


def text_findings(text: str) -> list[str]:
    """The rules the lines of a file's text break: known formats, and ``NAME=value`` /
    ``name: value`` settings of secret names whose values look like secrets."""
    rules: list[str] = []
    for line in text.splitlines():
        for rule, _found in formats_in(line):
            rules.append(rule)
        if line.lstrip().startswith(("#", ";", "//")):
            continue  # a comment: its examples are no one's settings
        line = re.sub(r"\s+[#;].*$", "", line)  # and a comment after a setting
        m = re.match(r"""^\s*(?:export\s+)?["']?([A-Za-z_][\w.-]*)["']?\s*[:=]\s*(.+?)\s*,?$""", line)
        if m and not re.search(r"\s", m.group(2).strip("'\"")):  # prose is not a secret
            hit = variable_rule(m.group(1), m.group(2))
            if hit:
                rules.append(hit[0].replace("a variable named", "a setting named"))
    return list(dict.fromkeys(rules))
