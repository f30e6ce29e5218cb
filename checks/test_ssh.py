"""The install page's SSH image: build it, run it, log in as root, stop and remove it; what is unsafe.

Selected with ``-m ssh``; part of every run. Security findings warn, and fail
with ``--release``.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from paddle_verify.facts import ImageFacts
from paddle_verify.manifest import Variant
from paddle_verify.ssh import SshFacts
from paddle_verify.ssh.facts import env_differences

pytestmark = pytest.mark.ssh
Facts = Callable[[Variant], SshFacts]


def test_ssh_image_builds(variant: Variant, ssh_facts: Facts) -> None:
    image = ssh_facts(variant).built
    assert image.startswith("paddle-verify/ssh:"), f"{variant.name}: the SSH image is tagged {image!r}"


def test_sshd_answers_on_the_published_port(variant: Variant, ssh_facts: Facts) -> None:
    machine = ssh_facts(variant).machine
    assert machine.banner.startswith("SSH-2.0-"), f"{variant.name}: {machine.name} answered {machine.banner!r}"


@pytest.mark.contract("carries.paddle")
def test_root_login_runs_paddle_version_like_docker_exec(variant: Variant, ssh_facts: Facts, facts: ImageFacts) -> None:
    rc, out, err = ssh_facts(variant).version_over_ssh
    assert rc == 0, f"{variant.name}: `paddle version` over SSH exited with {rc}: {err.strip()[-300:]!r}"
    direct = facts.version_run["stdout"]  # the probe's `docker exec` of the same image
    assert out == direct, (
        f"{variant.name}: `paddle version` differs over SSH ({out!r}) and through docker exec ({direct!r})"
    )


def test_ssh_login_gets_the_image_env_like_docker_exec(variant: Variant, ssh_facts: Facts, facts: ImageFacts) -> None:
    sessions = ssh_facts(variant).login_env
    lost = env_differences(facts.image_env, sessions)  # the image's ENV (Config.Env): what docker exec sees
    assert not lost, (
        f"{variant.name}: an SSH login does not get the image's ENV as `docker exec` does: {'; '.join(lost)}"
    )


def test_stop_and_rm_remove_the_container_and_its_data(variant: Variant, ssh_facts: Facts) -> None:
    facts = ssh_facts(variant)
    machine = facts.machine
    assert facts.lifecycle_error is None, facts.lifecycle_error
    assert facts.removed, (
        f"{variant.name}: the second container of {machine.name}'s image is still there after docker stop + docker rm"
    )
    assert not facts.layer_left, f"{variant.name}: its writable layer {facts.layer} is still on disk"


# --- security findings ------------------------------------------------------------


def test_port_published_on_loopback_only(
    variant: Variant, ssh_facts: Facts, finding: Callable[[bool, str], None]
) -> None:
    machine = ssh_facts(variant).machine
    exposed = [b for b in machine.bindings if b.get("HostIp") in ("", "0.0.0.0", "::")]
    addrs = ", ".join(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}" for b in exposed)
    finding(
        not exposed,
        f"{variant.name}: sshd of {machine.name} is published on every interface ({addrs}): "
        "anyone who reaches this host can try to log in",
    )


def test_root_password_login_refused(variant: Variant, ssh_facts: Facts, finding: Callable[[bool, str], None]) -> None:
    facts = ssh_facts(variant)
    machine = facts.machine
    finding(
        not facts.root_password_accepted,
        f"{variant.name}: sshd accepts root login with a password (the install page's setup; {machine.name})",
    )


def test_password_not_guessable(variant: Variant, ssh_facts: Facts, finding: Callable[[bool, str], None]) -> None:
    facts = ssh_facts(variant)
    machine = facts.machine
    guessed = facts.guessed[0] if facts.guessed else ""
    finding(not facts.guessed, f"{variant.name}: root's password on {machine.name} is a well-known one: {guessed!r}")


def test_host_keys_differ_between_containers(
    variant: Variant, ssh_facts: Facts, finding: Callable[[bool, str], None]
) -> None:
    facts = ssh_facts(variant)
    machine = facts.machine
    assert facts.host_keys is not None, f"{variant.name}: host keys not read: {facts.host_key_error}"
    first, second = facts.host_keys
    finding(
        first != second,
        f"{variant.name}: {machine.name} and a second container of its image share the host key {first} (baked in): "
        "one leaked image lets anyone impersonate every container",
    )


def test_no_credentials_in_image_history(
    variant: Variant, ssh_facts: Facts, finding: Callable[[bool, str], None]
) -> None:
    facts = ssh_facts(variant)
    image = facts.built
    finding(not facts.history, f"{variant.name}: `docker history` of {image} shows a credential: {facts.history[:1]}")
