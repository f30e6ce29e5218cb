"""No secrets in the image, judged by their values: none in its files, its ENV or its `docker history`.

The rules (known formats, high-entropy values under a secret's name) are in
paddle_verify/facts/values.py; the manifest's `[secrets] allow` accepts a finding with its reason,
which the report lists (the `accepted` property). A finding names where and which rule, never the value.
"""

import pytest

from paddle_verify.facts import ImageFacts, secrets
from paddle_verify.manifest import Variant


def accept(item: pytest.Item, findings: secrets.Findings) -> None:
    """The accepted findings, with their reasons, as the test's ``accepted`` properties (the report's)."""
    for text in findings.accepted:
        item.user_properties.append(("accepted", text))


def test_no_private_keys_or_credential_files(
    variant: Variant, facts: ImageFacts, request: pytest.FixtureRequest
) -> None:
    scan = facts.secrets
    findings = secrets.file_findings(scan["findings"], variant.accepted.secrets)
    accept(request.node, findings)
    assert not findings.found, (
        f"{variant.name}: the image leaks credentials in files: {'; '.join(findings.found)} "
        f"(every container and everyone who pulls the image has them)"
    )


def test_no_secrets_in_image_env(variant: Variant, facts: ImageFacts, request: pytest.FixtureRequest) -> None:
    findings = secrets.env_findings(facts.image_env, variant.accepted.secrets)  # names and rules only
    accept(request.node, findings)
    assert not findings.found, (
        f"{variant.name}: the image's ENV sets {', '.join(findings.found)}: "
        "every container's environment and `docker inspect` show it"
    )


def test_no_secrets_in_image_history(variant: Variant, facts: ImageFacts, request: pytest.FixtureRequest) -> None:
    findings = secrets.history_findings(facts.history, variant.accepted.secrets)  # values replaced by ***
    accept(request.node, findings)
    assert not findings.found, (
        f"{variant.name}: `docker history {variant.image}` shows a credential: {'; '.join(findings.found)}"
    )
