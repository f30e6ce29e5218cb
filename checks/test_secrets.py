"""No secrets in the image, judged by their values: none in its files, its ENV or its `docker history`.

The rules (known formats, high-entropy values under a secret's name) are in
paddle_verify/facts/values.py; the manifest's `[secrets] allow` accepts a finding with its reason,
which the report lists (the `accepted` property). A finding names where and which rule, never the value.
"""

from collections.abc import Callable

from paddle_verify.facts import ImageFacts, secrets
from paddle_verify.manifest import Variant


def accept(record_property: Callable[[str, object], None], findings: secrets.Findings) -> None:
    for text in findings.accepted:
        record_property("accepted", text)


def test_no_private_keys_or_credential_files(
    variant: Variant, facts: ImageFacts, record_property: Callable[[str, object], None]
) -> None:
    scan = facts.secrets
    findings = secrets.file_findings(scan["findings"], variant.accepted.secrets)
    accept(record_property, findings)
    assert not findings.found, (
        f"{variant.name}: the image leaks credentials in files: {'; '.join(findings.found)} "
        f"(every container and everyone who pulls the image has them)"
    )


def test_no_secrets_in_image_env(
    variant: Variant, facts: ImageFacts, record_property: Callable[[str, object], None]
) -> None:
    findings = secrets.env_findings(facts.image_env, variant.accepted.secrets)  # names and rules only
    accept(record_property, findings)
    assert not findings.found, (
        f"{variant.name}: the image's ENV sets {', '.join(findings.found)}: "
        "every container's environment and `docker inspect` show it"
    )


def test_no_secrets_in_image_history(
    variant: Variant, facts: ImageFacts, record_property: Callable[[str, object], None]
) -> None:
    findings = secrets.history_findings(facts.history, variant.accepted.secrets)  # values replaced by ***
    accept(record_property, findings)
    assert not findings.found, (
        f"{variant.name}: `docker history {variant.image}` shows a credential: {'; '.join(findings.found)}"
    )
