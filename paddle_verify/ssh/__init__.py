"""The install page's SSH image: the image and its build context (image), a running machine
(machine), and the facts of the SSH checks (facts)."""

from .facts import SecurityFinding, SshFacts, gather
from .image import SSH_DIR, build_ssh_image

__all__ = ["SSH_DIR", "SecurityFinding", "SshFacts", "build_ssh_image", "gather"]
