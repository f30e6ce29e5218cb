"""Harmless changes to the cpu reference image: each must pass the WHOLE contract.

A false alarm is a defect of the suite like a miss: names with TOKEN, PASSWORD or KEY and
harmless values, public keys and certificates, an extra user and home, secret references in build
steps, extra tools and headers. All the changes are built into ONE image (a build per entry would
cost minutes); each entry also says how to see it is there (``present``: a shell command that
exits 0 in the image), so that a pass is a pass *with* that change.
"""

from __future__ import annotations

from dataclasses import dataclass

# A made-up public key (public keys are meant to be shared).
PUBLIC_SSH_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGk2v1mJ4pQe0yV3w8b7xR9tZcL5nH2sD6fA1uK0oJ3W trainer@example"
APP_CONFIG = (
    "api_key_file: /run/secrets/key\\n"
    "password_min_length: 12\\n"
    "token: ${HF_TOKEN}\\n"
    "secret_backend: vault\\n"
    "auth_token_url: https://auth.example.com/token\\n"
)


@dataclass(frozen=True)
class Benign:
    name: str
    dockerfile: str  # what follows FROM (the cpu reference)
    present: str  # a shell command that exits 0 when the change is in the image


BENIGN = [
    Benign(
        "env-names-with-secret-words",
        "ENV TOKENIZERS_PARALLELISM=false PASSWORD_MIN_LENGTH=12 API_KEY_FILE=/run/secrets/key "
        "SECRET_KEY_PATH=/etc/app/key AUTH_TOKEN_URL=https://auth.example.com/token MAX_TOKENS=4096 "
        "HF_HUB_DISABLE_TELEMETRY=1 PIP_INDEX_URL=https://pypi.org/simple",
        'test "$TOKENIZERS_PARALLELISM" = false -a "$PASSWORD_MIN_LENGTH" = 12 -a "$API_KEY_FILE" = /run/secrets/key',
    ),
    Benign(
        "public-ssh-keys",
        "RUN mkdir -p /root/.ssh && chmod 700 /root/.ssh "
        f"&& echo '{PUBLIC_SSH_KEY}' > /root/.ssh/authorized_keys "
        "&& openssl genpkey -algorithm ed25519 -out /tmp/k && openssl pkey -in /tmp/k -pubout "
        "-out /root/.ssh/id_ed25519.pub && rm /tmp/k",
        "grep -q ssh-ed25519 /root/.ssh/authorized_keys && grep -q 'BEGIN PUBLIC KEY' /root/.ssh/id_ed25519.pub",
    ),
    Benign(
        "ca-certificate",
        "RUN openssl req -x509 -newkey ed25519 -nodes -days 2 -subj /CN=benign-test-ca "
        "-keyout /tmp/ca.key -out /usr/local/share/ca-certificates/benign-test-ca.crt "
        "&& rm /tmp/ca.key && update-ca-certificates",
        "grep -q 'BEGIN CERTIFICATE' /usr/local/share/ca-certificates/benign-test-ca.crt "
        "&& test -e /etc/ssl/certs/benign-test-ca.pem",
    ),
    Benign(
        "extra-user-and-home",
        "RUN useradd -m -s /bin/bash trainer && mkdir -p /home/trainer/.config "
        f"&& printf '{APP_CONFIG}' > /home/trainer/.config/app.yaml "
        "&& echo 'export TOKENIZERS_PARALLELISM=false' >> /home/trainer/.bashrc && chown -R trainer /home/trainer",
        "id trainer && grep -q password_min_length /home/trainer/.config/app.yaml",
    ),
    Benign(
        "secret-references-in-build-steps",
        'ARG HF_TOKEN\nRUN export TOKEN="$HF_TOKEN" PASSWORD=${DB_PASSWORD:-} && echo "token is ${#TOKEN} long"',
        "true",  # the history lines are the change: test_no_secrets_in_image_history reads them
    ),
    Benign(
        "extra-tools-and-headers",
        "RUN apt-get update -q && apt-get install -y -q --no-install-recommends curl libssl-dev "
        "&& rm -rf /var/lib/apt/lists/*",
        "curl --version && test -e /usr/include/openssl/ssl.h",
    ),
]


def dockerfile(base: str) -> str:
    """One image with every harmless change."""
    return f"FROM {base}\n" + "".join(f"# benign: {b.name}\n{b.dockerfile}\n" for b in BENIGN)
