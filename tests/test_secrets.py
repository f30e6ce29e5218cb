"""No secrets in the image: the rule (unit), the probe's walk (this host), broken images and the reference ones.

A finding names the file or the variable and never shows the secret: the broken images'
secrets must not appear anywhere in the inner run's reports or output.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from paddle_verify.facts import secrets

from .conftest import REFERENCE, ImageFactory, InnerRun
from .defects import Defect
from .test_broken_images import assert_exactly, manifest_for
from .test_probe import base_config, run_probe

# A throwaway key made when the image is built (openssl is in the reference images; ssh-keygen
# is not). Every PKCS#8 ed25519 key's PEM body starts with the same bytes: a secret's first
# characters, which no report may show.
KEY_BODY_PREFIX = "MC4CAQAwBQYDK2VwBCIEI"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

PRIVATE_KEY = Defect(
    "secret-private-key",
    "cpu",
    "runtime",
    "RUN mkdir -p /root/.ssh && openssl genpkey -algorithm ed25519 -out /root/.ssh/id_rsa && chmod 600 /root/.ssh/id_rsa",
    {"test_no_private_keys_or_credential_files[{v}]": "/root/.ssh/id_rsa holds a private key (PEM"},
)
ENV_SECRET = Defect(
    "secret-env",
    "cpu",
    "runtime",
    f"ENV AWS_SECRET_ACCESS_KEY={AWS_SECRET}",
    {
        "test_no_secrets_in_image_env[{v}]": "the image's ENV sets AWS_SECRET_ACCESS_KEY (high-entropy value",
        # ENV is a layer of its own: its line in `docker history` shows it too (the value hidden)
        "test_no_secrets_in_image_history[{v}]": "ENV AWS_SECRET_ACCESS_KEY=***",
    },
)
# A made-up GitHub token (ghp_ + 36): in ENV, in a build step's history line, and in a file only
# (written from base64, so that no history line shows it).
GH_TOKEN = "ghp_" + "Vq7ZxK2mR9tLw4NpB8sYc3HdJ6fGa1Ue5Ti0"
GH_FILE_TEXT = f"github.com:\n    user: builder\n    oauth_token: {GH_TOKEN}\n"
GH_ENV = Defect(
    "secret-github-env",
    "cpu",
    "runtime",
    f"ENV GH_DEPLOY={GH_TOKEN}",
    {
        "test_no_secrets_in_image_env[{v}]": "the image's ENV sets GH_DEPLOY (GitHub token)",
        "test_no_secrets_in_image_history[{v}]": "ENV GH_DEPLOY=*** [GitHub token]",
    },
)
GH_HISTORY = Defect(
    "secret-github-history",
    "cpu",
    "runtime",
    f"RUN git_auth=$(echo {GH_TOKEN} | wc -c) && echo $git_auth > /dev/null",
    {"test_no_secrets_in_image_history[{v}]": "echo *** | wc -c"},
)
GH_FILE = Defect(
    "secret-github-file",
    "cpu",
    "runtime",
    "RUN mkdir -p /root/.config/gh && echo "
    + base64.b64encode(GH_FILE_TEXT.encode()).decode()
    + " | base64 -d > /root/.config/gh/hosts.yml",
    {"test_no_private_keys_or_credential_files[{v}]": "/root/.config/gh/hosts.yml holds a GitHub token"},
)
SECRET_DEFECTS = (PRIVATE_KEY, ENV_SECRET, GH_ENV, GH_HISTORY, GH_FILE)
# The same token under a name the manifest accepts: every check passes, the report says why.
ACCEPTED = Defect("secret-accepted", "cpu", "runtime", f"ENV GH_ACCEPTED={GH_TOKEN}")
ACCEPTED_REASON = "a made-up token the self-test accepts"


# --- the rule -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "secret"),
    [
        ("AWS_SECRET_ACCESS_KEY", "wJalr/XUtnFEMI", True),
        ("GITHUB_TOKEN", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", True),
        ("DEPLOY", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", True),  # the value, whatever the name
        ("DB_PASSWORD", "hunter2", True),
        ("HF_API_KEY", "hf_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7", True),
        ("ID", "AKIAIOSFODNN7EXAMPLE", True),
        ("INDEX", "https://me:s3cretPw9@pypi.example/simple", True),
        ("GITHUB_TOKEN", "", False),
        ("PASSWORD_FILE", "/run/secrets/db", False),
        ("PATH", "/usr/bin", False),
        ("PADDLE_NO_STAT", "1", False),
        # a name alone is not a finding (these failed the gate when names were judged)
        ("GITHUB_TOKEN", "ghp_x", False),
        ("HF_API_KEY", "k", False),
        ("TOKENIZERS_PARALLELISM", "false", False),
        ("PASSWORD_MIN_LENGTH", "12", False),
        ("API_KEY_FILE", "/run/secrets/key", False),
        ("AUTH_TOKEN_URL", "https://auth.example.com/token", False),
        ("TOKEN_TYPE", "bearer", False),
        ("HF_TOKEN", "$HF_TOKEN", False),
        ("DB_PASSWORD", "${DB_PASSWORD}", False),
    ],
)
def test_secret_variables(name: str, value: str, secret: bool) -> None:
    assert secrets.secret_variables({name: value}) == ([name] if secret else [])


def test_history_lines_hide_the_value() -> None:
    lines = [
        "/bin/sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY=wJalr/XUtn",
        "/bin/sh -c echo root:hunter2 | chpasswd",
        '|1 ROOT_PASSWORD= /bin/sh -c if [ -n "$ROOT_PASSWORD" ]; then echo "root:$ROOT_PASSWORD" | chpasswd; fi',
        "/bin/sh -c #(nop)  ENV LANG=C.UTF-8",
        "/bin/sh -c #(nop)  ENV TOKENIZERS_PARALLELISM=false PASSWORD_MIN_LENGTH=12",
        f"/bin/sh -c echo {GH_TOKEN} > /dev/null",
    ]
    assert secrets.history_secrets(lines) == [
        "/bin/sh -c #(nop)  ENV AWS_SECRET_ACCESS_KEY=*** [high-entropy value of a variable named *SECRET*]",
        "/bin/sh -c echo root:*** | chpasswd [a password fed to chpasswd]",
        "/bin/sh -c echo *** > /dev/null [GitHub token]",
    ]


# --- the probe's walk, on this host ---------------------------------------------------


PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE=\n-----END OPENSSH PRIVATE KEY-----\n"


def scan(tmp_path: Path, **limits: int) -> dict[str, Any]:
    """The probe's walk of ``tmp_path``'s root/ and opt/ (this host's homes left out)."""
    roots = [str(tmp_path / "root"), str(tmp_path / "opt")]
    cfg = {"roots": roots, "passwd_homes": False, "max_depth": 8, "max_files": 1000, "seconds": 10, **limits}
    facts = run_probe(base_config(tmp_path, "true\n", launcher_subcommands=[], secrets=cfg))
    result: dict[str, Any] = facts["secrets"]
    return result


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_probe_finds_keys_and_credential_files_and_names_only_the_file(tmp_path: Path) -> None:
    root, opt = tmp_path / "root", tmp_path / "opt"
    write(root / ".ssh" / "id_ed25519", PEM)
    write(root / ".ssh" / "id_ed25519.pub", "ssh-ed25519 AAAA test\n")
    write(root / ".netrc", "machine example.com login me password hunter2\n")
    write(root / ".aws" / "credentials", "[default]\naws_secret_access_key = abc\n")
    write(root / ".docker" / "config.json", '{"auths": {"registry.example": {"auth": "bWU6aHVudGVyMg=="}}}')
    write(opt / "app" / ".docker" / "config.json", '{"auths": {"registry.example": {}}, "credsStore": "pass"}')
    write(root / ".config" / "gcloud" / "application_default_credentials.json", '{"refresh_token": "x"}')
    write(opt / "app" / "server.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    write(opt / "venv" / "lib" / "site-packages" / "pkg" / "tests" / "key.pem", PEM)  # a package's test key
    write(root / ".ssh" / "empty_id_rsa_dir" / "id_rsa", "")
    write(opt / "app" / "settings.env", f"GH={GH_TOKEN}\n")  # a candidate: judged on the host
    write(opt / "app" / "ca.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    os.mkfifo(root / "fifo")  # never opened: it would block the walk
    result = scan(tmp_path)
    found = {f["path"]: f["what"] for f in result["findings"]}
    assert found == {
        str(root / ".ssh" / "id_ed25519"): "a private key (PEM 'PRIVATE KEY' header)",
        str(root / ".netrc"): "netrc login credentials",
        str(root / ".aws" / "credentials"): "AWS credentials",
        str(root / ".docker" / "config.json"): "registry credentials (auths: registry.example)",
        str(root / ".config" / "gcloud" / "application_default_credentials.json"): "gcloud credentials",
    }
    assert "hunter2" not in repr(result)
    assert result["candidates"] == [str(opt / "app" / "settings.env")]
    assert GH_TOKEN not in repr(result), "the probe's answer holds a candidate's content"
    assert result["truncated"] is None
    assert {str(root), str(opt)} <= set(result["roots"])


def test_probe_walk_is_bounded(tmp_path: Path) -> None:
    deep = tmp_path / "root" / "a" / "b" / "c" / "d"
    write(deep / "id_rsa", PEM)
    assert scan(tmp_path, max_depth=2)["findings"] == [], "a file below max_depth was read"
    for i in range(30):
        write(tmp_path / "opt" / f"f{i}", "x")
    result = scan(tmp_path, max_files=10)
    assert result["files"] == 10
    assert result["truncated"] == "stopped after 10 files"


# --- images ------------------------------------------------------------------------


def never_shown(run: InnerRun, report_dir: Path, *secret: str) -> None:
    """No secret in the run's output nor in any file under its report directory."""
    files = [p for p in report_dir.rglob("*") if p.is_file()]
    assert files, f"the run wrote no report under {report_dir}"
    reports = "".join(p.read_text(errors="replace") for p in files)
    for text in secret:
        assert text not in run.stdout + run.stderr, f"the run's output shows a secret ({text[:6]}...)"
        assert text not in reports, f"a report shows a secret ({text[:6]}...)"


def test_secrets_in_an_image_fail_exactly_the_secrets_checks(
    reference_images: dict[str, str], build_image: ImageFactory, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    images = {
        d.name: (d, build_image(d.name, f"FROM {reference_images[d.base]}\n{d.dockerfile}\n"))
        for d in (*SECRET_DEFECTS, ACCEPTED)
    }
    manifest = manifest_for(tmp_path / "secrets.toml", images)
    with manifest.open("a") as fh:
        fh.write(f'\n[secrets]\nallow = [{{ name = "GH_ACCEPTED", reason = "{ACCEPTED_REASON}" }}]\n')
    run = run_checks("--manifest", str(manifest), "--variant", "all", "-m", "not ssh")
    assert run.ret == 1, run.stdout[-2000:]
    for defect, _ in images.values():
        assert_exactly(run, defect.name, defect)
    assert run.summary is not None
    accepted = {r["check"]: r.get("accepted") for r in run.summary["results"] if r["variant"] == ACCEPTED.name}
    assert accepted["test_no_secrets_in_image_env"] == [f"ENV GH_ACCEPTED (GitHub token): {ACCEPTED_REASON}"]
    assert accepted["test_no_secrets_in_image_history"] == [
        f"history /bin/sh -c #(nop)  ENV GH_ACCEPTED=*** [GitHub token]: {ACCEPTED_REASON}"
    ]
    assert "accepted (secret-accepted, the manifest's allow-list): ENV GH_ACCEPTED (GitHub token): " in run.stdout
    junit = (run.path / "reports" / "junit.xml").read_text()
    assert f'name="accepted" value="ENV GH_ACCEPTED (GitHub token): {ACCEPTED_REASON}"' in junit
    never_shown(run, run.path / "reports", AWS_SECRET, GH_TOKEN, GH_TOKEN[4:], KEY_BODY_PREFIX, "-----BEGIN")


def test_reference_images_hold_no_secrets(
    reference_images: dict[str, str], run_checks: Callable[..., InnerRun]
) -> None:
    run = run_checks("--manifest", str(REFERENCE), "--variant", "all", "-k", "secret")
    assert run.ret == 0, run.stdout[-3000:]
    outcomes = run.outcomes()
    assert len(outcomes) == 3 * len(reference_images), outcomes
    assert set(outcomes.values()) == {"passed"}
