"""No secrets in the image: no private keys or credential files, none in its ENV or `docker history`."""

from paddle_verify.facts import ImageFacts, secrets
from paddle_verify.manifest import Variant


def test_no_private_keys_or_credential_files(variant: Variant, facts: ImageFacts) -> None:
    scan = facts.secrets
    found = [f"{f['path']} holds {f['what']}" for f in scan["findings"]]
    assert not found, (
        f"{variant.name}: the image leaks credentials in files: {'; '.join(found)} "
        f"(every container and everyone who pulls the image has them)"
    )


def test_no_secrets_in_image_env(variant: Variant, facts: ImageFacts) -> None:
    names = secrets.secret_variables(facts.image_env)  # names only: the values never reach a report
    assert not names, (
        f"{variant.name}: the image's ENV sets {', '.join(names)} (a password, token or key): "
        "every container's environment and `docker inspect` show it"
    )


def test_no_secrets_in_image_history(variant: Variant, facts: ImageFacts) -> None:
    lines = secrets.history_secrets(facts.history)  # values replaced by ***
    assert not lines, f"{variant.name}: `docker history {variant.image}` shows a credential: {'; '.join(lines)}"
