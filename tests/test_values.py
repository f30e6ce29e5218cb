"""The rules of facts/values.py (secrets judged by value) and the allow-list's split (facts/secrets.py):
the unit tier, no engine."""

from __future__ import annotations

import pytest

from paddle_verify.facts import secrets, values

from .test_secrets import GH_TOKEN


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        ("ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "GitHub token"),
        ("glpat-" + "a1B2c3D4e5F6g7H8i9J0", "GitLab token"),
        ("xoxb-" + "123456789012-1234567890123-a1B2c3D4e5F6g7H8i9J0k1L2", "Slack token"),
        ("AKIA" + "IOSFODNN7EXAMPLE", "AWS access key"),
        ("hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7", "Hugging Face token"),
        ("-----BEGIN RSA PRIVATE KEY-----", "private key"),
        (
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
            "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
            "JSON Web Token",
        ),
        ("https://me:s3cretPw9@pypi.example/simple", "password in a URL"),
    ],
)
def test_known_formats_are_named_by_their_rule(value: str, rule: str) -> None:
    assert values.env_findings({"SOME_SETTING": value}) == {"SOME_SETTING": rule}


def test_a_value_under_a_secret_name_is_named_by_the_keyword() -> None:
    assert values.env_findings({"DB_PASSWORD": "Xy7#kLp9qR"}) == {
        "DB_PASSWORD": "high-entropy value of a variable named *PASSWORD*"
    }


def test_text_findings_judge_settings_and_skip_comments_and_prose() -> None:
    text = (
        "# input_password = secret\n"
        "challengePassword = A challenge password\n"
        "secret = pass:insta # an example\n"
        "password_min_length: 12\n"
        "token: ${HF_TOKEN}\n"
        "db_password = 'Xy7#kLp9qR'\n"
        f"oauth_token: {GH_TOKEN}\n"
    )
    assert values.text_findings(text) == ["high-entropy value of a setting named *PASSWORD*", "GitHub token"]


def test_accepted_findings_are_set_apart_with_their_reason() -> None:
    env = {"HF_TOKEN": "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7", "GH": GH_TOKEN}
    found = secrets.env_findings(env, {"HF_TOKEN": "the public demo's read-only token"})
    assert found.found == ["GH (GitHub token)"]
    assert found.accepted == ["ENV HF_TOKEN (Hugging Face token): the public demo's read-only token"]
    files = [{"path": "/etc/ssl/private/snakeoil.key", "what": "a private key"}, {"path": "/root/k", "what": "x"}]
    got = secrets.file_findings(files, {"/etc/ssl/private/": "ssl-cert's snakeoil key"})  # type: ignore[arg-type]
    assert got.found == ["/root/k holds x"]
    assert got.accepted == ["/etc/ssl/private/snakeoil.key (a private key): ssl-cert's snakeoil key"]
    history = secrets.history_findings(["/bin/sh -c #(nop)  ENV HF_TOKEN=" + env["HF_TOKEN"]], {"HF_TOKEN": "why"})
    assert history.found == []
    assert len(history.accepted) == 1
    assert env["HF_TOKEN"] not in history.accepted[0]
