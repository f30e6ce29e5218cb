"""The install page's SSH image: built from the packaged context (``data/ssh``) on top of a
variant's image, reused while neither changes (its tag carries both hashes), and what its
``docker history`` shows."""

from __future__ import annotations

import hashlib
import io
import tarfile
from importlib import resources
from pathlib import Path

import docker
import docker.errors

from ..engine import LABEL_SUITE, SUITE, EngineError, Session, daemon_error, daemon_fault, require_image
from ..facts import secrets

SSH_DIR = Path(str(resources.files("paddle_verify").joinpath("data", "ssh")))


def context_files(dockerfile_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(dockerfile_dir.iterdir()) if p.is_file()}


def build_ssh_image(
    session: Session,
    base: str,
    *,
    variant: str,
    dockerfile_dir: Path = SSH_DIR,
    buildargs: dict[str, str] | None = None,
    timeout: float = 600,
) -> str:
    """The SSH image for ``base``; built when absent, reused when the base and Dockerfile are unchanged."""
    client = session.client
    base_id = require_image(client, base, variant=variant)
    files = context_files(dockerfile_dir)
    digest = hashlib.sha256(base_id.encode() + repr(sorted(files.items())).encode() + repr(buildargs).encode())
    tag = f"paddle-verify/ssh:{variant}-{digest.hexdigest()[:12]}"
    try:
        client.images.get(tag)
        return tag
    except docker.errors.ImageNotFound:
        pass
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    try:
        client.images.build(
            fileobj=context,
            custom_context=True,
            tag=tag,
            rm=True,
            forcerm=True,
            buildargs={"BASE": base, **(buildargs or {})},
            labels={LABEL_SUITE: SUITE, "org.paddle-verify.ssh-base": base},
            timeout=int(timeout),
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(c.get("stream", "")) for c in exc.build_log)[-800:]
        raise EngineError(f"{variant}: the SSH image does not build on {base}: {exc}\n{log}") from None
    except docker.errors.APIError as exc:
        why = f"{variant}: the SSH image does not build on {base}: {daemon_error(exc)}"
        raise EngineError(why, fault=daemon_fault(exc)) from None
    return tag


def history_secrets(client: docker.DockerClient, image: str) -> list[str]:
    """Lines of ``docker history`` that show a credential (its value hidden: :mod:`..facts.secrets`)."""
    return secrets.history_secrets(str(layer.get("CreatedBy", "")) for layer in client.images.get(image).history())
