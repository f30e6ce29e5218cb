"""The install page's SSH image: build it, run it, log in as root, stop and remove it; what is unsafe.

Selected with ``-m ssh``; part of every run. Security findings warn, and fail
with ``--release``.
"""

from __future__ import annotations

import concurrent.futures
import os
from collections.abc import Callable

import docker.errors
import pytest

from paddle_verify.engine import Session, exec_bounded
from paddle_verify.manifest import Variant
from paddle_verify.ssh import (
    WELL_KNOWN,
    SshMachine,
    history_secrets,
    host_key,
    login,
    password_accepted,
    run_over_ssh,
    run_ssh_machine,
    stop_and_remove,
    wait_banner,
    writable_layer,
)

pytestmark = pytest.mark.ssh


def test_ssh_image_builds(variant: Variant, ssh_images: Callable[[Variant], str]) -> None:
    assert ssh_images(variant), f"{variant.name}: no SSH image"


def test_sshd_answers_on_the_published_port(variant: Variant, ssh_machines: Callable[[Variant], SshMachine]) -> None:
    machine = ssh_machines(variant)
    assert machine.banner.startswith("SSH-2.0-"), f"{variant.name}: {machine.name} answered {machine.banner!r}"


def test_root_login_runs_paddle_version_like_docker_exec(
    variant: Variant, ssh_machines: Callable[[Variant], SshMachine], docker_session: Session, pytestconfig: pytest.Config
) -> None:
    machine = ssh_machines(variant)
    timeout = pytestconfig.getoption("--exec-timeout")
    env = " ".join(f"{k}={v}" for k, v in variant.runtime.env.items())
    try:
        client = login(machine.host, machine.port, "root", machine.password)
    except Exception as exc:
        pytest.fail(f"{variant.name}: ssh -p {machine.port} root@{machine.host} failed: {exc}")
    with client:
        rc, over_ssh, err = run_over_ssh(client, f"{env} {variant.runtime.launcher} version", timeout)
    assert rc == 0, f"{variant.name}: `paddle version` over SSH exited with {rc}: {err.strip()[-300:]!r}"
    direct = exec_bounded(
        docker_session.client, machine.container.id or "", [variant.runtime.launcher, "version"],
        timeout=timeout, env=dict(variant.runtime.env),
    )  # fmt: skip
    assert over_ssh == direct.stdout, (
        f"{variant.name}: `paddle version` differs over SSH ({over_ssh!r}) and through docker exec ({direct.stdout!r})"
    )


def test_stop_and_rm_remove_the_container_and_its_data(
    variant: Variant, ssh_images: Callable[[Variant], str], docker_session: Session, ssh_password: str
) -> None:
    machine = run_ssh_machine(
        docker_session, ssh_images(variant), variant=variant.name, password=ssh_password, port=0, seed_name=False
    )
    machine.container.reload()
    layer = writable_layer(machine.container)
    stop_and_remove(docker_session, machine)
    with pytest.raises(docker.errors.NotFound):
        docker_session.client.containers.get(machine.name)
    if layer is not None and os.path.isdir(os.path.dirname(layer)):  # the engine's disk is this machine's
        assert not os.path.exists(layer), f"{variant.name}: {machine.name}'s writable layer {layer} is still on disk"


# --- security findings ------------------------------------------------------------


def test_port_published_on_loopback_only(
    variant: Variant, ssh_machines: Callable[[Variant], SshMachine], finding: Callable[[bool, str], None]
) -> None:
    machine = ssh_machines(variant)
    exposed = [b for b in machine.bindings if b.get("HostIp") in ("", "0.0.0.0", "::")]
    finding(
        not exposed,
        f"{variant.name}: sshd of {machine.name} is published on every interface "
        f"({', '.join(b.get('HostIp') or '0.0.0.0' for b in exposed)}:{machine.port}): anyone who reaches this host can try to log in",
    )


def test_root_password_login_refused(
    variant: Variant, ssh_machines: Callable[[Variant], SshMachine], finding: Callable[[bool, str], None]
) -> None:
    machine = ssh_machines(variant)
    accepted = password_accepted(machine.host, machine.port, "root", machine.password)
    finding(not accepted, f"{variant.name}: sshd accepts root login with a password (the install page's setup)")


def test_password_not_guessable(
    variant: Variant, ssh_machines: Callable[[Variant], SshMachine], finding: Callable[[bool, str], None]
) -> None:
    machine = ssh_machines(variant)
    # Failed logins are slowed by PAM (~2 s each): try them side by side.
    with concurrent.futures.ThreadPoolExecutor(len(WELL_KNOWN)) as pool:
        tries = dict(zip(WELL_KNOWN, pool.map(lambda pw: password_accepted(machine.host, machine.port, "root", pw), WELL_KNOWN), strict=True))
    guessed = [pw for pw, ok in tries.items() if ok]
    finding(not guessed, f"{variant.name}: root's password is a well-known one: {guessed[0] if guessed else ''!r}")


def test_host_keys_differ_between_containers(
    variant: Variant,
    ssh_machines: Callable[[Variant], SshMachine],
    ssh_images: Callable[[Variant], str],
    docker_session: Session,
    ssh_password: str,
    finding: Callable[[bool, str], None],
    pytestconfig: pytest.Config,
) -> None:
    first = ssh_machines(variant)
    second = run_ssh_machine(
        docker_session, ssh_images(variant), variant=variant.name, password=ssh_password, port=0, seed_name=False
    )
    try:
        wait_banner(second.host, second.port, pytestconfig.getoption("--exec-timeout"))
        keys = host_key(first.host, first.port), host_key(second.host, second.port)
    finally:
        docker_session.remove(second.container.id or "")
    finding(
        keys[0] != keys[1],
        f"{variant.name}: two containers of the SSH image share the host key {keys[0]} (baked into the image): "
        "one leaked image lets anyone impersonate every container",
    )


def test_no_credentials_in_image_history(
    variant: Variant, ssh_images: Callable[[Variant], str], docker_session: Session, finding: Callable[[bool, str], None]
) -> None:
    lines = history_secrets(docker_session.client, ssh_images(variant))
    finding(not lines, f"{variant.name}: `docker history` of the SSH image shows a credential: {lines[0] if lines else ''}")
