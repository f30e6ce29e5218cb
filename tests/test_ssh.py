"""The SSH checks can fail: broken SSH images (one defect each) and an exposed port.

Each broken image is built FROM the good SSH image (so only its defect differs)
through ``--ssh-context``; the inner runs check the reference cpu image.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Generator
from pathlib import Path

import docker
import pytest

from paddle_verify.engine import Session
from paddle_verify.ssh import SSH_DIR, build_ssh_image
from paddle_verify.ssh.facts import env_differences

from .conftest import REFERENCE, ImageFactory, InnerRun

SSH_TESTS = "test_ssh.py"


@pytest.fixture(scope="module")
def good_ssh_image(docker_client: docker.DockerClient, reference_images: dict[str, str]) -> str:
    session = Session(docker_client)
    try:
        return build_ssh_image(session, reference_images["cpu"], variant="cpu")
    finally:
        session.close()


@pytest.fixture
def broken_context(
    tmp_path: Path, good_ssh_image: str, docker_client: docker.DockerClient
) -> Generator[Callable[[str], Path], None, None]:
    """A copy of images/ssh whose Dockerfile is the good image plus one defect."""
    before = {t for i in docker_client.images.list("paddle-verify/ssh") for t in i.tags}

    def make(defect: str) -> Path:
        ctx = tmp_path / "ssh"
        shutil.copytree(SSH_DIR, ctx)
        (ctx / "Dockerfile").write_text(f"ARG BASE\nFROM {good_ssh_image}\n{defect}\n")
        return ctx

    yield make
    for image in docker_client.images.list("paddle-verify/ssh"):
        for tag in set(image.tags) - before:
            docker_client.images.remove(tag, force=True)


def ssh_run(run_checks: Callable[..., InnerRun], *args: str) -> InnerRun:
    return run_checks(
        "-m", "ssh", "--manifest", str(REFERENCE), "--variant", "cpu", "--exec-timeout", "20", *args
    )  # fmt: skip


def test_good_ssh_image_passes_with_findings_as_warnings(
    good_ssh_image: str, run_checks: Callable[..., InnerRun], docker_client: docker.DockerClient
) -> None:
    run = ssh_run(run_checks)
    assert run.ret == 0, run.stdout[-3000:]
    assert set(run.outcomes().values()) == {"passed"}
    assert "SecurityFinding: cpu: sshd accepts root login with a password" in run.stdout
    assert run.leftovers(docker_client) == [], "SSH containers left behind"


def test_release_turns_findings_into_failures(good_ssh_image: str, run_checks: Callable[..., InnerRun]) -> None:
    run = ssh_run(run_checks, "--release")
    assert run.ret == 1
    assert run.failed() == {"test_root_password_login_refused[cpu]"}
    assert (
        "security finding (--release): cpu: sshd accepts root login"
        in run.messages()["test_root_password_login_refused[cpu]"]
    )


def test_port_on_all_interfaces_is_a_finding(good_ssh_image: str, run_checks: Callable[..., InnerRun]) -> None:
    run = ssh_run(run_checks, "--release", "--ssh-bind", "0.0.0.0")
    assert run.failed() == {"test_root_password_login_refused[cpu]", "test_port_published_on_loopback_only[cpu]"}
    assert "is published on every interface (0.0.0.0:" in run.messages()["test_port_published_on_loopback_only[cpu]"]


def test_sshd_missing(broken_context: Callable[[str], Path], run_checks: Callable[..., InnerRun]) -> None:
    run = ssh_run(run_checks, "--ssh-context", str(broken_context("RUN rm /usr/sbin/sshd")))
    message = run.messages()["test_sshd_answers_on_the_published_port[cpu]"]
    assert run.outcomes()["test_sshd_answers_on_the_published_port[cpu]"] == "failed"
    assert "cpu: no SSH-2.0 banner on 127.0.0.1:" in message
    assert "the container exited with code 127" in message
    assert run.outcomes()["test_ssh_image_builds[cpu]"] == "passed"


def test_root_login_refused(broken_context: Callable[[str], Path], run_checks: Callable[..., InnerRun]) -> None:
    defect = "RUN echo 'PermitRootLogin no' > /etc/ssh/sshd_config.d/00-no-root.conf"
    run = ssh_run(run_checks, "--ssh-context", str(broken_context(defect)))
    assert run.failed() == {"test_root_login_runs_paddle_version_like_docker_exec[cpu]"}
    assert "Authentication failed" in run.messages()["test_root_login_runs_paddle_version_like_docker_exec[cpu]"]
    # and the root-password finding is gone
    assert "sshd accepts root login with a password" not in run.stdout


def test_host_keys_baked_into_the_image(
    broken_context: Callable[[str], Path], run_checks: Callable[..., InnerRun]
) -> None:
    # The page's way: keys made at build time (and the entrypoint keeps existing ones).
    run = ssh_run(run_checks, "--release", "--ssh-context", str(broken_context("RUN ssh-keygen -A")))
    assert "test_host_keys_differ_between_containers[cpu]" in run.failed()
    assert "share the host key" in run.messages()["test_host_keys_differ_between_containers[cpu]"]


def test_password_in_history_and_well_known(
    broken_context: Callable[[str], Path], run_checks: Callable[..., InnerRun]
) -> None:
    # The page's way: password `root` set at build time.
    run = ssh_run(
        run_checks, "--release", "--ssh-password", "root",
        "--ssh-context", str(broken_context("RUN echo root:root | chpasswd")),
    )  # fmt: skip
    assert {"test_password_not_guessable[cpu]", "test_no_credentials_in_image_history[cpu]"} <= run.failed()
    assert "a well-known one: 'root'" in run.messages()["test_password_not_guessable[cpu]"]
    history = run.messages()["test_no_credentials_in_image_history[cpu]"]
    assert "echo root:*** | chpasswd" in history, "the line is shown, its password hidden"
    assert "root:root" not in history


# --- the image's ENV over SSH ------------------------------------------------------------

# The SSH image's entrypoint before it carried the container's environment over to SSH sessions.
NO_CARRY_OVER = """#!/bin/sh
set -e
ssh-keygen -A >/dev/null
if [ -n "${ROOT_PASSWORD:-}" ]; then
    echo "root:${ROOT_PASSWORD}" | chpasswd
fi
unset ROOT_PASSWORD
exec "$@"
"""
PARITY = "test_ssh_login_gets_the_image_env_like_docker_exec[cpu]"


@pytest.fixture
def extra_path_image(
    reference_images: dict[str, str], build_image: ImageFactory, docker_client: docker.DockerClient
) -> Generator[str, None, None]:
    """The cpu image with an ENV PATH entry of its own (the SSH images built on it removed after)."""
    image = build_image("ssh-env-path", f"FROM {reference_images['cpu']}\nENV PATH=/opt/extra/bin:$PATH\n")
    yield image
    for ssh_image in docker_client.images.list(filters={"label": f"org.paddle-verify.ssh-base={image}"}):
        docker_client.images.remove(str(ssh_image.id), force=True)


def test_image_env_lost_over_ssh_fails_naming_the_variable(
    extra_path_image: str, run_checks: Callable[..., InnerRun], tmp_path: Path
) -> None:
    context = tmp_path / "ssh-no-carry-over"
    shutil.copytree(SSH_DIR, context)
    (context / "entrypoint.sh").write_text(NO_CARRY_OVER)
    run = ssh_run(run_checks, "--image", f"cpu={extra_path_image}", "--ssh-context", str(context))
    assert run.ret == 1, run.stdout[-3000:]
    assert run.failed() == {PARITY}
    message = run.messages()[PARITY]
    assert "cpu: an SSH login does not get the image's ENV as `docker exec` does: " in message
    assert "PATH changed: '/opt/extra/bin:/usr/local/sbin:" in message
    assert "in `ssh HOST CMD`" in message
    assert "in a login shell (`ssh HOST`)" in message


def test_suite_ssh_image_carries_the_image_env_over(extra_path_image: str, run_checks: Callable[..., InnerRun]) -> None:
    run = ssh_run(run_checks, "--image", f"cpu={extra_path_image}")
    assert run.ret == 0, run.stdout[-3000:]
    assert run.outcomes()[PARITY] == "passed"


def test_env_differences_name_each_variable_and_hide_secrets() -> None:
    image = {"PATH": "/opt/x/bin:/usr/bin", "LANG": "C.UTF-8", "HOME": "/work", "API_TOKEN": "s3cr3t", "OK": "1"}
    sessions: dict[str, dict[str, str] | str] = {
        "`ssh HOST CMD`": {"PATH": "/usr/bin", "HOME": "/root", "OK": "1"},
        "a login shell (`ssh HOST`)": {"PATH": "/opt/x/bin:/usr/bin", "LANG": "C.UTF-8", "API_TOKEN": "x", "OK": "1"},
    }
    assert env_differences(image, sessions) == [
        "PATH changed: '/opt/x/bin:/usr/bin' through docker exec, '/usr/bin' in `ssh HOST CMD`",
        "LANG lost: 'C.UTF-8' through docker exec, unset in `ssh HOST CMD`",
        "API_TOKEN changed: '***' through docker exec, unset in `ssh HOST CMD`, '***' in a login shell (`ssh HOST`)",
    ]
    assert env_differences(image, {"`ssh HOST CMD`": "`env -0` exited with 127: env: not found"}) == [
        "the environment of `ssh HOST CMD` was not read: `env -0` exited with 127: env: not found"
    ]


def test_ssh_build_that_fails(broken_context: Callable[[str], Path], run_checks: Callable[..., InnerRun]) -> None:
    """One cause, one failure: the build fails its own check; the SSH checks that need the image are not run."""
    run = ssh_run(run_checks, "--ssh-context", str(broken_context("RUN false  # DEFECT: the build fails")))
    assert run.ret == 1, run.stdout[-3000:]
    assert run.failed() == {"test_ssh_image_builds[cpu]"}
    assert run.messages()["test_ssh_image_builds[cpu]"].startswith("cpu: the SSH image does not build on ")
    not_run = {k for k, v in run.outcomes().items() if v == "skipped"}
    assert "test_sshd_answers_on_the_published_port[cpu]" in not_run
    assert all("(reported once, by test_ssh_image_builds[cpu])" in run.messages()[k] for k in not_run)
